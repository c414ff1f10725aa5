"""Fixtures for the runtime tests: the QEMU oracle.

Outside CI a missing ``qemu-system-x86_64`` skips the tests that need it,
with a reason; under CI (``CI`` set) it is a failure, because ``.ci/run``
installs QEMU and the differential tests are the runtime's acceptance.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.runtime.harness import QEMU_BINARY


def require_qemu() -> str:
    """The QEMU binary's path; skips (or fails under CI) when it is missing."""
    found = shutil.which(QEMU_BINARY)
    for tool in ("qemu-img", "qemu-io"):
        if found is not None and shutil.which(tool) is None:
            found = None
    if found is None:
        message = (f"{QEMU_BINARY}, qemu-img and qemu-io are needed "
                   "(apt-get install qemu-system-x86 qemu-utils)")
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but QEMU is missing: {message}")
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def qemu_binary() -> str:
    """Path of qemu-system-x86_64 (7.2), the differential tests' oracle."""
    return require_qemu()


@pytest.fixture
def qemu_tools() -> None:
    """qemu-img and qemu-io, for tests that create images but need no oracle."""
    for tool in ("qemu-img", "qemu-io"):
        if shutil.which(tool) is None:
            message = f"{tool} is needed (apt-get install qemu-utils)"
            if os.environ.get("CI"):
                pytest.fail(f"CI is set but {message}")
            pytest.skip(message)
