"""Conditions: the ``'if'`` of definitions, members, branches and features.

A condition is a small immutable tree.  QEMU 10.2 spells conditions as a
configuration symbol (``'CONFIG_FOO'``) or as ``{'all': [...]}``,
``{'any': [...]}`` and ``{'not': ...}``; the legacy language spells them as
a C preprocessor expression or a list of them (all must hold).  Both end up
in the same tree, so back ends need to know only one shape.  An absent
condition is ``None`` everywhere in the IR, never an "always true" node:
that keeps ``if member.ifcond:`` meaningful in templates.

Each node remembers how the schema spelled it (:meth:`IfCond.to_json`),
because QEMU's test dump prints conditions exactly as written.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import TypeAlias

from qapigen.dialect import Dialect

#: A condition as the schema spells it: ``str``, ``dict`` or (legacy) ``list``.
IfJson: TypeAlias = "str | dict[str, IfJson] | list[IfJson]"

_LEGACY_DEFINED = re.compile(r"^\s*(!)?\s*defined\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")


@dataclass(frozen=True)
class _Spelling:
    """How to render a condition as text (C preprocessor, prose, ...)."""

    option: str
    negation: str
    conjunction: str
    disjunction: str


_C_SPELLING = _Spelling("defined(%s)", "!%s", " && ", " || ")
_DOC_SPELLING = _Spelling("%s", "not %s", " and ", " or ")


class IfCond(ABC):
    """A condition tree node."""

    @abstractmethod
    def to_json(self) -> IfJson:
        """The condition as the schema spelled it."""

    @abstractmethod
    def holds(self, is_defined: Callable[[str], bool]) -> bool:
        """Whether the condition is true, given which symbols are defined."""

    @abstractmethod
    def options(self) -> Iterator[str]:
        """Every symbol (or legacy C expression) the condition mentions."""

    @abstractmethod
    def _render(self, spelling: _Spelling, nested: bool) -> str: ...

    def c_expr(self) -> str:
        """The condition as a C preprocessor expression (``#if ...``)."""
        return self._render(_C_SPELLING, False)

    def doc_text(self) -> str:
        """The condition in prose, as QEMU's documentation shows it."""
        return self._render(_DOC_SPELLING, False)

    def evaluate(self, defined: Collection[str]) -> bool:
        """Whether the condition holds when exactly *defined* are defined."""
        return self.holds(defined.__contains__)

    def __str__(self) -> str:
        json = self.to_json()
        return json if isinstance(json, str) else repr(json)


@dataclass(frozen=True)
class IfOption(IfCond):
    """A configuration symbol that must be defined (QEMU 10.2 spelling)."""

    name: str

    def to_json(self) -> IfJson:
        return self.name

    def holds(self, is_defined: Callable[[str], bool]) -> bool:
        return is_defined(self.name)

    def options(self) -> Iterator[str]:
        yield self.name

    def _render(self, spelling: _Spelling, nested: bool) -> str:
        return spelling.option % self.name


@dataclass(frozen=True)
class IfCExpr(IfCond):
    """A legacy condition: a C preprocessor expression taken verbatim,
    e.g. ``'defined(CONFIG_SPICE)'``.

    Only the forms ``defined(X)`` and ``!defined(X)`` can be evaluated
    against a set of symbols; any other expression counts as a symbol
    named by its whole text.
    """

    expr: str

    def to_json(self) -> IfJson:
        return self.expr

    def holds(self, is_defined: Callable[[str], bool]) -> bool:
        match = _LEGACY_DEFINED.match(self.expr)
        if not match:
            return is_defined(self.expr)
        return is_defined(match.group(2)) != bool(match.group(1))

    def options(self) -> Iterator[str]:
        yield self.expr

    def _render(self, spelling: _Spelling, nested: bool) -> str:
        if spelling is _C_SPELLING:
            return f"({self.expr})" if nested else self.expr
        return self.expr


@dataclass(frozen=True)
class IfNot(IfCond):
    """Negation."""

    operand: IfCond

    def to_json(self) -> IfJson:
        return {"not": self.operand.to_json()}

    def holds(self, is_defined: Callable[[str], bool]) -> bool:
        return not self.operand.holds(is_defined)

    def options(self) -> Iterator[str]:
        return self.operand.options()

    def _render(self, spelling: _Spelling, nested: bool) -> str:
        return spelling.negation % self.operand._render(spelling, True)


@dataclass(frozen=True)
class IfAll(IfCond):
    """Conjunction.  ``as_list`` marks the legacy list spelling
    (``['A', 'B']``, or a single legacy string, which QEMU 3.1 turned into
    a one-element list)."""

    operands: tuple[IfCond, ...]
    as_list: bool = False

    def to_json(self) -> IfJson:
        operands = [o.to_json() for o in self.operands]
        return operands if self.as_list else {"all": operands}

    def holds(self, is_defined: Callable[[str], bool]) -> bool:
        return all(o.holds(is_defined) for o in self.operands)

    def options(self) -> Iterator[str]:
        for operand in self.operands:
            yield from operand.options()

    def _render(self, spelling: _Spelling, nested: bool) -> str:
        # A legacy one-element list is just its element: no parentheses.
        inner = not self.as_list or len(self.operands) > 1
        text = spelling.conjunction.join(o._render(spelling, inner) for o in self.operands)
        return f"({text})" if nested and inner else text


@dataclass(frozen=True)
class IfAny(IfCond):
    """Disjunction."""

    operands: tuple[IfCond, ...]

    def to_json(self) -> IfJson:
        return {"any": [o.to_json() for o in self.operands]}

    def holds(self, is_defined: Callable[[str], bool]) -> bool:
        return any(o.holds(is_defined) for o in self.operands)

    def options(self) -> Iterator[str]:
        for operand in self.operands:
            yield from operand.options()

    def _render(self, spelling: _Spelling, nested: bool) -> str:
        text = spelling.disjunction.join(o._render(spelling, True) for o in self.operands)
        return f"({text})" if nested else text


def parse_ifcond(raw: object, dialect: Dialect) -> IfCond | None:
    """Turn an ``'if'`` value, as written and already validated, into a tree.

    ``None`` (no ``'if'``) stays ``None``.
    """
    if raw is None:
        return None
    if dialect is Dialect.LEGACY:
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            return None
        return IfAll(tuple(IfCExpr(str(item)) for item in items), as_list=True)
    return _parse_modern(raw)


def _parse_modern(raw: object) -> IfCond:
    if isinstance(raw, str):
        return IfOption(raw)
    if isinstance(raw, dict) and len(raw) == 1:
        ((key, value),) = raw.items()
        if key == "not":
            return IfNot(_parse_modern(value))
        if key in ("all", "any") and isinstance(value, list):
            operands = tuple(_parse_modern(v) for v in value)
            return IfAll(operands) if key == "all" else IfAny(operands)
    raise ValueError(f"malformed 'if' condition {raw!r} (should have been rejected)")
