"""The transaction engine, in QEMU 7.2's order (spec B.2).

Each action's prepare does its whole change at once (later actions of the
same transaction must see it) and registers how to finish it (commit),
undo it (abort) and tidy up either way (clean).  An action registers its
callbacks *before* it does anything that needs undoing, so a prepare that
fails half-way is still undone: QEMU registers each action before calling
its prepare, and runs the failing action's abort and clean too.

Order, as QEMU 3.1 to 8.0 (and so 7.2) run it:

* success: every commit in list order, then every clean in list order;
* failure: every abort in *reverse* order, then every clean in list order.

QEMU 8.1 and later reverse commit and clean as well; the order lives here
only.  Grouped completion mode is checked by each action inside its own
prepare (7.2), with the capital-T text of :meth:`Transaction.check_grouped`.
Backup jobs keep their shared job transaction in :attr:`Transaction.props`
(``props.extra``), and :attr:`Transaction.finish_hooks` run once the
transaction is over (QEMU drops its JobTxn reference there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qapigen import qmp
from qapigen.support.errors import QMPError

Callback = Callable[[], None]


@dataclass
class TxProps:
    """The transaction's properties plus room for the job layer's state
    (for example its JobTxn under ``extra["job_txn"]``)."""

    completion_mode: qmp.ActionCompletionMode = qmp.ActionCompletionMode.INDIVIDUAL
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def grouped(self) -> bool:
        return self.completion_mode is not qmp.ActionCompletionMode.INDIVIDUAL


@dataclass
class _Entry:
    commit: Callback | None
    abort: Callback | None
    clean: Callback | None


class Transaction:
    """One run of ``transaction`` (or of a single command that QEMU runs
    as a one-action transaction)."""

    def __init__(self, props: TxProps | None = None) -> None:
        self.props = props if props is not None else TxProps()
        self._entries: list[_Entry] = []
        #: called with True (committed) or False (aborted) at the very end
        self.finish_hooks: list[Callable[[bool], None]] = []
        self.kind = ""

    def add(
        self, *, commit: Callback | None = None, abort: Callback | None = None,
        clean: Callback | None = None,
    ) -> None:
        """Register how to finish, undo and tidy up a change."""
        self._entries.append(_Entry(commit, abort, clean))

    def check_grouped(self, kind: str | None = None) -> None:
        """QEMU 7.2's per-action refusal of grouped completion mode."""
        if self.props.grouped:
            raise QMPError(
                f"Action '{kind or self.kind}' does not support Transaction property "
                "completion-mode = grouped"
            )

    def run(self, steps: list[tuple[str, Callable[[Transaction], None]]]) -> None:
        """Prepare each step in order; commit or roll back; raise the first
        error unchanged."""
        failure: Exception | None = None
        try:
            for kind, prepare in steps:
                self.kind = kind
                try:
                    prepare(self)
                except Exception as err:  # handler bugs roll back too
                    failure = err
                    break
            if failure is None:
                for entry in self._entries:
                    if entry.commit is not None:
                        entry.commit()
            else:
                for entry in reversed(self._entries):
                    if entry.abort is not None:
                        entry.abort()
            for entry in self._entries:
                if entry.clean is not None:
                    entry.clean()
        finally:
            for hook in self.finish_hooks:
                hook(failure is None)
        if failure is not None:
            raise failure
