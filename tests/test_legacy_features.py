"""Features in the legacy dialect: the rules of QEMU 5.0-5.2, the releases
that put features on object members.

QEMU 3.1, whose checks the legacy dialect otherwise follows, knew no
features at all; so features follow 5.2's generator: a member's features
are described in its definition's ``Features:`` section, every feature
needs a description there, clashes and upper case are worded as 5.2 worded
them, and introspection lists a member's features.  Where 5.2 was stricter
than the releases before it (the ``deprecated`` feature on a type, which
4.1-5.1 accepted), the legacy dialect accepts what a release of its span
accepted.  The schemas below are our own.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import qapigen
from qapigen import QAPIError
from qapigen.backends.introspect import introspect
from qapigen.ir import Schema


def load(folder: Path, text: str, dialect: str = "legacy") -> Schema:
    path = folder / "schema.json"
    path.write_text(textwrap.dedent(text).lstrip())
    return qapigen.load_schema(str(path), dialect=dialect)


def load_error(folder: Path, text: str, dialect: str = "legacy") -> str:
    """The message loading *text* fails with, the folder cut from names."""
    with pytest.raises(QAPIError) as excinfo:
        load(folder, text, dialect)
    return str(excinfo.value).replace(f"{folder}/", "")


# A struct whose member carries a feature the struct's doc describes, next
# to a feature of the struct itself.
MEMBER_FEATURE = """
    ##
    # @Gauge:
    #
    # @level: how full
    # @unit: what of
    #
    # Features:
    # @old: the member @level is on its way out
    # @fresh: the whole struct is new
    ##
    { 'struct': 'Gauge',
      'data': { 'level': { 'type': 'int', 'features': [ 'old' ] }, 'unit': 'str' },
      'features': [ 'fresh' ] }
    ##
    # @read-gauge:
    ##
    { 'command': 'read-gauge', 'returns': 'Gauge' }
"""


def test_member_feature_is_described_in_the_features_section(tmp_path: Path) -> None:
    schema = load(tmp_path, MEMBER_FEATURE)
    doc = schema.docs[0]
    assert list(doc.features) == ["old", "fresh"]
    old = doc.features["old"].member
    assert old is not None and old.defined_in == "level"
    fresh = doc.features["fresh"].member
    assert fresh is not None and fresh.defined_in == "Gauge"


def test_undescribed_member_feature_is_refused(tmp_path: Path) -> None:
    text = """
        ##
        # @Gauge:
        #
        # @level: how full
        ##
        { 'struct': 'Gauge', 'data': { 'level': { 'type': 'int', 'features': [ 'old' ] } } }
    """
    assert load_error(tmp_path, text) == (
        "schema.json: In struct 'Gauge':\nschema.json:6: feature 'old' lacks documentation"
    )


def test_member_features_of_arguments_and_inline_bases_are_described(tmp_path: Path) -> None:
    text = """
        ##
        # @Sort:
        # @one: the first
        ##
        { 'enum': 'Sort', 'data': [ 'one' ] }
        ##
        # @Part:
        # @size: how big
        ##
        { 'struct': 'Part', 'data': { 'size': 'int' } }
        ##
        # @Choice:
        #
        # @kind: which
        #
        # Features:
        # @tag-old: the tag's feature
        ##
        { 'union': 'Choice', 'discriminator': 'kind',
          'base': { 'kind': { 'type': 'Sort', 'features': [ 'tag-old' ] } },
          'data': { 'one': 'Part' } }
        ##
        # @press:
        #
        # @force: how hard
        #
        # Features:
        # @arg-old: the argument's feature
        ##
        { 'command': 'press', 'data': { 'force': { 'type': 'int', 'features': [ 'arg-old' ] } } }
    """
    schema = load(tmp_path, text)
    connected = {
        name: section.member.defined_in
        for doc in schema.docs
        for name, section in doc.features.items()
        if section.member is not None
    }
    assert connected == {"tag-old": "kind", "arg-old": "force"}


def test_one_description_serves_a_feature_shared_by_members_and_definition(
    tmp_path: Path,
) -> None:
    """5.2 rejects ``deprecated`` on a type; 4.1-5.1 did not, so legacy accepts it."""
    text = """
        ##
        # @Gauge:
        #
        # @level: how full
        # @unit: what of
        #
        # Features:
        # @deprecated: everything here
        ##
        { 'struct': 'Gauge',
          'data': { 'level': { 'type': 'int', 'features': [ 'deprecated' ] },
                    'unit': { 'type': 'str', 'features': [ 'deprecated' ] } },
          'features': [ 'deprecated' ] }
    """
    schema = load(tmp_path, text)
    assert schema.docs[0].features["deprecated"].member is not None
    assert load_error(tmp_path, text, dialect="qemu") == (
        "schema.json: In struct 'Gauge':\n"
        "schema.json:10: feature 'deprecated' is not supported for types"
    )


def test_described_features_nobody_has(tmp_path: Path) -> None:
    """10.2's wording ("features"; 5.2 said "members" here), at the doc's
    first line, as the legacy dialect reports doc errors."""
    text = """
        ##
        # @Gauge:
        #
        # @level: how full
        #
        # Features:
        # @old: nobody has it
        # @gone: nor this
        ##
        { 'struct': 'Gauge', 'data': { 'level': 'int' } }
    """
    assert load_error(tmp_path, text) == (
        "schema.json:1: documented features 'old', 'gone' do not exist"
    )


def test_member_feature_clash_is_worded_as_5_2_did(tmp_path: Path) -> None:
    text = """
        { 'struct': 'Gauge',
          'data': { 'level': { 'type': 'int', 'features': [ 'old', 'old' ] } } }
    """
    assert load_error(tmp_path, text) == (
        "schema.json: In struct 'Gauge':\n"
        "schema.json:1: feature 'old' of type 'level' collides with"
        " feature 'old' of type 'level'"
    )


def test_definition_feature_clash_is_worded_as_5_2_did(tmp_path: Path) -> None:
    text = "{ 'command': 'press', 'features': [ 'old', { 'name': 'old' } ] }\n"
    assert load_error(tmp_path, text) == (
        "schema.json: In command 'press':\nschema.json:1: feature 'old' collides with feature 'old'"
    )


def test_member_feature_in_upper_case_is_refused(tmp_path: Path) -> None:
    text = """
        { 'command': 'press',
          'data': { 'force': { 'type': 'int', 'features': [ 'Old_Way' ] } } }
    """
    assert load_error(tmp_path, text) == (
        "schema.json: In command 'press':\n"
        "schema.json:1: 'features' member 'Old_Way' uses uppercase in name"
    )


def test_member_feature_upper_case_is_checked_before_the_next_member(tmp_path: Path) -> None:
    text = """
        { 'struct': 'Gauge',
          'data': { 'level': { 'type': 'int', 'features': [ 'Old' ] }, 'Unit': 'str' } }
    """
    assert load_error(tmp_path, text) == (
        "schema.json: In struct 'Gauge':\n"
        "schema.json:1: 'features' member 'Old' uses uppercase in name"
    )


def test_name_case_pragma_does_not_cover_member_features(tmp_path: Path) -> None:
    """5.2 checked feature names ignoring the pragma; a definition's own
    features stay exempt, as when 4.x checked them with the members."""
    text = """
        { 'pragma': { 'name-case-whitelist': [ 'Gauge' ] } }
        { 'struct': 'Gauge', 'data': { 'Level': { 'type': 'int', 'features': [ 'Old' ] } } }
    """
    assert load_error(tmp_path, text) == (
        "schema.json: In struct 'Gauge':\n"
        "schema.json:2: 'features' member 'Old' uses uppercase in name"
    )
    text = """
        { 'pragma': { 'name-case-whitelist': [ 'Gauge' ] } }
        { 'struct': 'Gauge', 'data': { 'Level': 'int' }, 'features': [ 'Old' ] }
    """
    gauge = load(tmp_path, text).lookup_entity("Gauge")
    assert gauge is not None
    assert [f.name for f in gauge.features] == ["Old"]


def test_introspection_lists_member_features(tmp_path: Path) -> None:
    infos = {info["name"]: info for info in introspect(load(tmp_path, MEMBER_FEATURE))}
    assert infos["Gauge"] == {
        "name": "Gauge",
        "meta-type": "object",
        "members": [
            {"name": "level", "type": "int", "features": ["old"]},
            {"name": "unit", "type": "str"},
        ],
        "features": ["fresh"],
    }


def test_described_feature_of_a_command_without_arguments_must_exist(tmp_path: Path) -> None:
    """3.1 never checked the doc of a command without arguments; 5.x
    checked every doc's features, and so does the legacy dialect."""
    text = """
        ##
        # @press:
        #
        # Features:
        # @old: nobody has it
        ##
        { 'command': 'press' }
    """
    assert load_error(tmp_path, text) == "schema.json:1: documented feature 'old' does not exist"


@pytest.mark.parametrize(
    "text",
    [
        # an enum's doc (3.1 never checked it)
        """
        ##
        # @Sort:
        # @one: a value
        # @two: no such value
        ##
        { 'enum': 'Sort', 'data': [ 'one' ] }
        """,
        # an event without arguments
        """
        ##
        # @PRESSED:
        # @force: no such argument
        ##
        { 'event': 'PRESSED' }
        """,
        # a boxed command: its doc is not its argument type's doc
        """
        ##
        # @Args:
        # @force: how hard
        ##
        { 'struct': 'Args', 'data': { 'force': 'int' } }
        ##
        # @press:
        # @force: described again here
        ##
        { 'command': 'press', 'boxed': true, 'data': 'Args' }
        """,
    ],
    ids=["enum", "event", "boxed-command"],
)
def test_described_members_are_checked_only_where_3_1_checked_them(
    tmp_path: Path, text: str
) -> None:
    """5.x refuses each of these ("documented member ... does not exist");
    3.1 accepted them, so schemas of its era may have them."""
    load(tmp_path, text)
