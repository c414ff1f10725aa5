"""setuptools' build backend, with editable installs that type checkers see.

An editable install made by setuptools' default ("lenient") mode reaches the
source tree only through an import hook (a ``sys.meta_path`` finder).  That
is invisible to mypy, pyright and IDEs: they search ``sys.path`` folders, so
a generated package's ``import qapigen.support.wire`` failed with
``import-not-found`` when checked from outside the repository.  The hook is
needed because ``[tool.setuptools.package-dir]`` maps packages that live
elsewhere in the tree into ``qapigen`` (``qapigen.templates`` is
``templates/``), and no plain ``sys.path`` folder has that shape.

This backend gives the editable install that shape, then puts it on
``sys.path``:

1. For each ``"qapigen.X" = "some/folder"`` mapping, a symbolic link
   ``qapigen/X -> ../some/folder`` is made in the source tree (the links
   are git-ignored).  ``qapigen/`` is then the whole package, as a wheel
   installs it.
2. The editable wheel's ``.pth`` file gets the project folder as a plain
   ``sys.path`` line, before setuptools' own hook line.  Python and type
   checkers then both find ``qapigen`` there, new modules included; the hook
   stays as a fallback (e.g. for a mapping added since the install).

A normal (non-editable) build is setuptools' own: a wheel holds real
folders, which type checkers find anyway.  Where links can't be made (some
Windows setups), the install still works through the hook, and a warning
says that type checkers will not see the mapped packages.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the PEP 517 hooks we don't change)


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    """PEP 660 hook: setuptools' editable wheel, made visible on sys.path."""
    project = Path.cwd().resolve()
    link_mapped_packages(project)
    name: str = _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
    add_path_entry(Path(wheel_directory) / name, project)
    return name


def mapped_packages(project: Path) -> dict[str, Path]:
    """``[tool.setuptools.package-dir]``'s mappings of subpackages
    (``"qapigen.templates" = "templates"``): dotted name -> folder."""
    with open(project / "pyproject.toml", "rb") as f:
        data = tomllib.load(f)
    package_dir = data.get("tool", {}).get("setuptools", {}).get("package-dir", {})
    return {
        name: project / folder
        for name, folder in package_dir.items()
        if "." in name and isinstance(folder, str)
    }


def link_mapped_packages(project: Path) -> list[Path]:
    """Link each mapped subpackage into its parent package's folder;
    returns the links made or already right."""
    links: list[Path] = []
    for name, target in sorted(mapped_packages(project).items()):
        link = project.joinpath(*name.split("."))
        relative = os.path.relpath(target, link.parent)
        if link.is_symlink():
            if os.readlink(link) == relative:
                links.append(link)
                continue
            link.unlink()
        elif link.exists():
            _warn(f"{link} exists and is not a link; leaving it (mapping of {name})")
            continue
        try:
            link.symlink_to(relative, target_is_directory=True)
        except OSError as err:
            _warn(f"can't link {link} -> {relative} ({err.strerror}); type checkers "
                  f"will not see {name} in this editable install")
            continue
        links.append(link)
    return links


def add_path_entry(wheel: Path, project: Path) -> None:
    """Put *project* as a plain ``sys.path`` line first in the wheel's
    ``__editable__*.pth`` file, rewriting the wheel's RECORD to match."""
    with zipfile.ZipFile(wheel) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    pth = next(
        info.filename for info, _ in entries
        if info.filename.startswith("__editable__") and info.filename.endswith(".pth")
    )
    files: dict[str, bytes] = {}
    for info, data in entries:
        if info.filename == pth:
            data = f"{project}\n".encode() + data
        files[info.filename] = data
    record = next(name for name in files if name.endswith(".dist-info/RECORD"))
    lines = []
    for name, data in files.items():
        if name == record:
            lines.append(f"{name},,")
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{name},sha256={digest},{len(data)}")
    files[record] = ("\n".join(lines) + "\n").encode()
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, _ in entries:
            zf.writestr(info, files[info.filename])
    os.replace(tmp, wheel)


def _warn(message: str) -> None:
    print(f"qapigen build: warning: {message}", file=sys.stderr)
