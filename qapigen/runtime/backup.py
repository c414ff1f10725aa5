"""Placeholder for the job layer: the JOBS helper replaces this module
with the real ``JobCommands`` (backup jobs, job verbs, query-jobs) and
registers the ``blockdev-backup``/``drive-backup`` transaction actions
with :func:`qapigen.runtime.actions.register`.

The hooks :class:`~qapigen.runtime.machine.Machine` calls are defined
here so the Machine works before the job layer exists.
"""

from __future__ import annotations


class JobCommands:
    """Mixin of :class:`~qapigen.runtime.machine.Machine` for job commands."""

    def init_jobs(self) -> None:
        """Called once by ``Machine.__init__`` after the block graph is built."""

    async def aclose_jobs(self) -> None:
        """Called by ``Machine.aclose`` before files are closed: stop jobs."""
