"""Schema evolution: what changed between two schemas, and whether a
client written for the old one still works against the new one.

:func:`diff_schemas` compares two checked schemas (:mod:`qapigen.ir`) the
way a QMP client sees them, and :func:`load_detected` loads a schema in
whichever dialect reads it.  ``qapigen diff`` is the command-line face of
both (:mod:`qapigen.evolution.command`).
"""

from qapigen.evolution.changes import Change, Direction
from qapigen.evolution.compare import diff_schemas
from qapigen.evolution.detect import Detected, load_detected

__all__ = ["Change", "Detected", "Direction", "diff_schemas", "load_detected"]
