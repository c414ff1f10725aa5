"""Run-time support for packages that ``qapigen generate`` writes.

Generated code imports from here; keeping the shared machinery in one
hand-written place keeps every generated module short and readable.
"""

from qapigen.support.drift import (
    Difference,
    DriftWarning,
    UnknownBranch,
    UnknownValue,
    differences,
)
from qapigen.support.errors import QMPError
from qapigen.support.wire import MISSING, NULL, Null

__all__ = [
    "MISSING", "NULL", "Difference", "DriftWarning", "Null", "QMPError", "UnknownBranch",
    "UnknownValue", "differences",
]
