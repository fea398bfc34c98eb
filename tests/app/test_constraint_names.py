"""The constraint names are defined once, by the Constraints dataclass; the places
that must list them again (a TypedDict, for type checkers; the checks' table)
are held to it here."""

import dataclasses

from microready._convert import constraints
from microready.params import Constraints, PathOptions

FIELDS = {field.name for field in dataclasses.fields(Constraints)}


def test_every_constraint_is_a_typed_keyword_of_the_markers() -> None:
    assert PathOptions.__optional_keys__ >= FIELDS


def test_every_constraint_has_a_check() -> None:
    checked = {row[0] for row in constraints._SCALAR_RULES}
    assert checked == FIELDS
