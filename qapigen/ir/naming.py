"""Mapping schema names to C identifiers.

The IR needs this for one thing: two names clash exactly when QEMU's
generator would map them to the same C identifier (``a-b`` and ``a_b``),
so clash checks compare these identifiers, not the names as written.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_C89 = _words(
    "auto break case char const continue default do double else enum extern float for "
    "goto if int long register return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while"
)
_C99 = _words("inline restrict _Bool _Complex _Imaginary")
_C11 = _words("_Alignas _Alignof _Atomic _Generic _Noreturn _Static_assert _Thread_local")
_GCC = _words("asm typeof")
_CPP = _words(
    "bool catch class const_cast delete dynamic_cast explicit false friend mutable "
    "namespace new operator private protected public reinterpret_cast static_cast "
    "template this throw true try typeid typename using virtual wchar_t "
    "and and_eq bitand bitor compl not not_eq or or_eq xor xor_eq"
)
# Identifiers some C compilers predefine as macros.
_POLLUTED_LEGACY = _words("unix errno mips sparc i386")
_POLLUTED = _POLLUTED_LEGACY | {"linux"}

_RESERVED = _C89 | _C99 | _C11 | _GCC | _CPP | _POLLUTED
_RESERVED_LEGACY = _C89 | _C99 | _C11 | _GCC | _CPP | _POLLUTED_LEGACY

_NOT_IDENT = re.compile(r"[^A-Za-z0-9_]")


def c_name(name: str, protect: bool = True, *, legacy: bool = False) -> str:
    """The C identifier QEMU derives from *name*.

    Every character that cannot appear in an identifier becomes ``_``.  With
    *protect*, names that would be keywords or predefined macros (and, in
    QEMU 10.2, names starting with a digit) get a ``q_`` prefix.  *legacy*
    selects QEMU 3.1's rules, which knew fewer reserved words and did not
    protect leading digits.
    """
    if legacy:
        ident = name.replace(".", "_").replace("-", "_")
        if protect and ident in _RESERVED_LEGACY:
            return "q_" + ident
        return ident
    ident = _NOT_IDENT.sub("_", name)
    if protect and (ident in _RESERVED or ident[:1].isdigit()):
        return "q_" + ident
    return ident
