"""Differential scenarios: every module here defines ``SCENARIOS``.

``tests/runtime/test_differential.py`` collects them all and runs each one
against QEMU 7.2 and ``qapigen serve`` (see ``tests/runtime/harness.py``).
"""
