"""``qapigen diff``'s two outputs: text for people, JSON for programs.

Text: one heading per section (commands, events, types), one line per
change marked ``BREAKING`` or ``compatible`` with the reason, and a
count at the end.  JSON: one object whose layout (``"format": 1``) is
documented in ``docs/diff.md``; fields are only ever added.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from qapigen.evolution.changes import Change
from qapigen.evolution.detect import Detected

JSON_FORMAT = 1
_HEADINGS = {"command": "Commands", "event": "Events", "type": "Types"}


def change_line(change: Change) -> str:
    """``BREAKING    command 'x' argument 'y': removed [input] -- why``."""
    mark = "BREAKING" if change.breaking else "compatible"
    direction = f" [{change.direction.label}]" if change.direction is not None else ""
    return f"{mark:<10}  {change.subject()}: {change.detail}{direction} -- {change.reason}"


def summary(changes: Sequence[Change]) -> str:
    """``2 breaking, 5 compatible`` (or that nothing changed)."""
    if not changes:
        return "no wire-visible changes"
    breaking = sum(c.breaking for c in changes)
    return f"{breaking} breaking, {len(changes) - breaking} compatible"


def render_text(changes: Sequence[Change], old: Detected, new: Detected) -> str:
    lines = [
        f"old: {old.schema.fname} ({old.describe()})",
        f"new: {new.schema.fname} ({new.describe()})",
    ]
    section = None
    for change in changes:
        if change.section != section:
            section = change.section
            lines.append(f"{_HEADINGS[section]}:")
        lines.append("  " + change_line(change))
    lines.append(summary(changes))
    return "\n".join(lines) + "\n"


def change_json(change: Change) -> dict[str, str | None]:
    return {
        "section": change.section,
        "name": change.name,
        "element-kind": change.element_kind,
        "element": change.element,
        "change": change.change,
        "detail": change.detail,
        "direction": change.direction.label if change.direction is not None else None,
        "classification": "breaking" if change.breaking else "compatible",
        "reason": change.reason,
    }


def render_json(changes: Sequence[Change], old: Detected, new: Detected) -> str:
    breaking = sum(c.breaking for c in changes)
    document = {
        "format": JSON_FORMAT,
        "old": {
            "schema": old.schema.fname,
            "dialect": old.dialect.value,
            "doc-comments": old.doc_comments.value,
        },
        "new": {
            "schema": new.schema.fname,
            "dialect": new.dialect.value,
            "doc-comments": new.doc_comments.value,
        },
        "breaking": breaking,
        "compatible": len(changes) - breaking,
        "changes": [change_json(c) for c in changes],
    }
    return json.dumps(document, indent=2) + "\n"
