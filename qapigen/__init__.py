"""qapigen: a QAPI schema compiler for Python."""

from qapigen.api import load_schema
from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError

__all__ = ["Dialect", "DocComments", "QAPIError", "load_schema"]
