"""A top-level schema expression as the parser hands it on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qapigen.frontend.docs import QAPIDoc
    from qapigen.frontend.source import SourceInfo


class Expression(dict[str, Any]):
    """A definition or directive: the JSON object as written, plus the place
    it starts and the doc comment right before it (if any).

    The values are the plain parsed JSON (``dict``/``list``/``str``/``bool``,
    and ``None`` for ``null`` in the legacy dialect); nothing downstream of
    the parser mutates them.
    """

    def __init__(self, data: dict[str, object], info: SourceInfo, doc: QAPIDoc | None = None) -> None:
        super().__init__(data)
        self.info = info
        self.doc = doc
