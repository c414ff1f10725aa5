"""Loading the modules of a generated package on first use.

QEMU's schema makes about 160 modules and 1,200 dataclasses; building them
all took half a second, paid by every program that imports the package,
even one that decodes a single command.  Instead the package's
``__init__`` resolves a name when it is first asked for
(:func:`package_getattr`), the registry's ``TYPES``, ``COMMANDS`` and
``EVENTS`` are :class:`LazyMapping` objects, and a part module reaches the
modules its code uses at run time through :class:`LazyModule` stand-ins
(:func:`link_modules`), which replace themselves with the real module the
first time code looks into them.  After that first use there is no
indirection left: the names are the real objects.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, TypeVar

V = TypeVar("V")


class LazyModule:
    """Stands for a module of the package under the name ``alias`` in
    another module's globals, until code first looks into it."""

    __slots__ = ("_alias", "_module", "_namespace")

    def __init__(self, namespace: MutableMapping[str, Any], alias: str, module: str) -> None:
        self._namespace = namespace
        self._alias = alias
        self._module = module

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._module)
        # From now on the referring module's code finds the real module.
        self._namespace[self._alias] = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._module!r}, not loaded yet>"


def link_modules(namespace: MutableMapping[str, Any], package: str, names: Iterable[str]) -> None:
    """Bind ``_<name>`` in *namespace* (a module's globals) to each module
    *name* of *package*: the module itself when it is loaded (or being
    loaded), else a :class:`LazyModule`.

    The generated modules use each other's classes in cycles that import
    statements cannot express; they only need them once their functions
    run, so a stand-in is enough at import time.
    """
    for name in names:
        full = f"{package}.{name}"
        module = sys.modules.get(full)
        alias = f"_{name}"
        namespace[alias] = module if module is not None else LazyModule(namespace, alias, full)


def package_getattr(
    package: str, namespace: MutableMapping[str, Any], where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a generated package (PEP 562).

    *where* maps each public name to the module of the package that defines
    it; a module's own name maps to itself.  A name is looked up once: it is
    then stored in the package's globals, where Python finds it directly.
    """

    def __getattr__(name: str) -> Any:
        home = where.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f"{package}.{home}")
        value = module if home == name else getattr(module, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__


class LazyMapping(Mapping[str, V]):
    """A read-only mapping whose keys are known up front and whose values
    are made by *resolve* on first lookup (then kept).

    Iterating, ``len`` and ``in`` never load anything; only reading a value
    does, and only the module that value lives in.
    """

    __slots__ = ("_keys", "_resolve", "_values")

    def __init__(self, keys: Iterable[str], resolve: Callable[[str], V]) -> None:
        self._keys: dict[str, None] = dict.fromkeys(keys)
        self._resolve = resolve
        self._values: dict[str, V] = {}

    def __getitem__(self, key: str) -> V:
        try:
            return self._values[key]
        except KeyError:
            if key not in self._keys:
                raise
        value = self._values[key] = self._resolve(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        # The dispatcher's lookup: one dict probe once the value is made.
        value = self._values.get(key)
        if value is not None:
            return value
        return self[key] if key in self._keys else default

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self)}, {len(self._values)} loaded>"


def load(package: str, module: str) -> Any:
    """Module *module* of the generated *package*, imported if need be."""
    return importlib.import_module(f"{package}.{module}")
