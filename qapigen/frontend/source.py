"""Where a piece of schema came from, and the pragmas in force there."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Pragma:
    """Pragma settings.

    One instance is shared by a main schema file and everything it
    includes: QEMU's pragmas are global once set, whichever file sets them.
    Legacy pragma names (``returns-whitelist``, ``name-case-whitelist``)
    land in the same fields as their modern names.
    """

    doc_required: bool = False
    command_name_exceptions: list[str] = field(default_factory=list)
    command_returns_exceptions: list[str] = field(default_factory=list)
    documentation_exceptions: list[str] = field(default_factory=list)
    member_name_exceptions: list[str] = field(default_factory=list)


class SourceInfo:
    """A file and line, the include chain that led there, and the
    definition being checked (for QEMU's "In struct 'Foo':" context line).
    """

    __slots__ = ("defn_meta", "defn_name", "fname", "line", "parent", "pragma")

    def __init__(self, fname: str, parent: SourceInfo | None, line: int = 1) -> None:
        self.fname = fname
        self.line = line
        self.parent = parent
        self.pragma: Pragma = parent.pragma if parent else Pragma()
        self.defn_meta: str | None = None
        self.defn_name: str | None = None

    def at_line(self, line: int) -> SourceInfo:
        """The same file and context at another line."""
        # Hot: the parser makes one per expression and doc line, so skip
        # copy.copy's generic machinery.
        info = object.__new__(SourceInfo)
        info.fname = self.fname
        info.line = line
        info.parent = self.parent
        info.pragma = self.pragma
        info.defn_meta = self.defn_meta
        info.defn_name = self.defn_name
        return info

    def set_defn(self, meta: str, name: str) -> None:
        self.defn_meta = meta
        self.defn_name = name

    def loc(self) -> str:
        return f"{self.fname}:{self.line}"

    def in_defn(self) -> str:
        if self.defn_name:
            return f"{self.fname}: In {self.defn_meta} '{self.defn_name}':\n"
        return ""

    def include_path(self) -> str:
        chain = []
        parent = self.parent
        while parent:
            chain.append(f"In file included from {parent.loc()}:\n")
            parent = parent.parent
        return "".join(reversed(chain))

    def __str__(self) -> str:
        return self.include_path() + self.in_defn() + self.loc()

    def __repr__(self) -> str:
        return f"SourceInfo({self.loc()!r})"
