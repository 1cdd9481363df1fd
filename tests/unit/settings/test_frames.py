"""The frames between stages (tasks.settings.frames): each schema's empty frame, a frame
that breaks one (a column missing, one too many, one of the wrong kind) refused naming the
column and the boundary. Real runs' frames at every boundary:
tests/integration/test_frame_boundaries.py."""

from __future__ import annotations

import pandas as pd
import pytest

from tasks.settings.frames import (
    ANY,
    FIGURES,
    FLAG,
    NUMBER,
    SCHEMAS,
    TEXT,
    FrameError,
    Kind,
    Schema,
)

WHERE = "the test's boundary, here → there"
# A value of each kind, and one of another kind for a column of it.
A_VALUE: dict[Kind, object] = {TEXT: "a", NUMBER: 1.5, FLAG: True, ANY: [1]}
WRONG: dict[Kind, object] = {TEXT: 2.5, NUMBER: "two", FLAG: "yes"}
CHECKED = [(s, c) for s in SCHEMAS for c, k in s.kinds.items() if k is not ANY]


def one_row(schema: Schema) -> pd.DataFrame:
    return pd.DataFrame({c: [A_VALUE[k]] for c, k in schema.kinds.items()})


def refused(schema: Schema, frame: pd.DataFrame) -> str:
    with pytest.raises(FrameError) as caught:
        schema.check(frame, WHERE)
    message = str(caught.value)
    assert f"the {schema.name} frame at {WHERE} breaks its schema" in message
    return message


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
def test_each_schemas_empty_frame_and_a_row_of_its_kinds_pass_its_check(schema: Schema
                                                                        ) -> None:
    empty = schema.empty()
    assert list(empty.columns) == schema.columns and empty.empty
    assert schema.check(empty, WHERE) is empty
    assert schema.check(one_row(schema), WHERE) is not None


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
def test_a_missing_column_is_refused_naming_it(schema: Schema) -> None:
    last = schema.columns[-1]
    assert f"missing column(s) '{last}'" in refused(schema, one_row(schema).drop(columns=last))


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
def test_an_unexpected_column_is_refused_naming_it(schema: Schema) -> None:
    extra = one_row(schema).assign(stray=1)
    assert "unexpected column(s) 'stray'" in refused(schema, extra)
    twice = pd.concat([schema.empty(), schema.empty()[[schema.columns[0]]]], axis=1)
    assert f"given more than once '{schema.columns[0]}'" in refused(schema, twice)


@pytest.mark.parametrize(("schema", "column"), CHECKED,
                         ids=[f"{s.name}.{c}" for s, c in CHECKED])
def test_a_column_of_the_wrong_kind_is_refused_naming_it(schema: Schema, column: str) -> None:
    kind = schema.kinds[column]
    frame = one_row(schema)
    frame[column] = pd.Series([WRONG[kind]])
    assert f"wrong kind: {column!r} is " in refused(schema, frame)
    assert f", not {kind.value}" in refused(schema, frame)


def test_every_fault_is_named_at_once() -> None:
    frame = one_row(FIGURES).drop(columns="period").assign(value=["52%"], stray=[1])
    message = refused(FIGURES, frame)
    assert message.endswith("missing column(s) 'period'; unexpected column(s) 'stray'; "
                            "wrong kind: 'value' is str, not number")


def test_a_column_with_no_value_is_of_any_kind() -> None:
    """pandas types an all-missing column as it likes (float64 NaN, object None): there is
    no value in it of a wrong kind. The order of the columns is not checked."""
    frame = one_row(FIGURES).assign(period=[float("nan")])[list(reversed(FIGURES.columns))]
    assert FIGURES.check(frame, WHERE) is frame
    refused(FIGURES, frame.assign(period=[2024.0]))


@pytest.mark.parametrize("values", [[202410, "2024-10"], [1, 2], ["a", 3.5], [b"K1", "K2"]],
                         ids=["int among text", "ints", "a float among text", "bytes"])
def test_an_object_column_of_anything_but_text_is_refused_as_text(values: list[object]
                                                                  ) -> None:
    """Found from outside: an object column passed as text whatever it held (pandas' object
    dtype holds anything); what its values are is inferred, in one pass."""
    frame = pd.DataFrame({c: [A_VALUE[k]] * len(values) for c, k in FIGURES.kinds.items()})
    frame["indicator"] = pd.Series(values, dtype=object)
    assert "wrong kind: 'indicator' is object of " in refused(FIGURES, frame)
    frame["indicator"] = pd.Series(["K1", None][:len(values)], dtype=object)
    assert FIGURES.check(frame, WHERE) is frame  # text with a missing value is text


@pytest.mark.parametrize("given", [None, pd.Series([1.0]), {"indicator": ["K1"]}],
                         ids=["None", "a Series", "a dict"])
def test_anything_but_a_frame_is_refused_naming_the_schema_and_boundary(given: object
                                                                        ) -> None:
    with pytest.raises(FrameError, match=rf"the figures frame at {WHERE} is not a DataFrame"):
        FIGURES.check(given, WHERE)  # type: ignore[arg-type]


def test_complex_numbers_are_not_numbers() -> None:
    refused(FIGURES, one_row(FIGURES).assign(value=[1 + 2j]))


def test_the_schemas_are_each_named_once_with_whom_they_pass_between() -> None:
    names = [s.name for s in SCHEMAS]
    assert len(set(names)) == len(names)
    for schema in SCHEMAS:
        assert "made by" in schema.doc or "returned by the store" in schema.doc, schema.name
        assert "read by" in schema.doc.lower() or "no stage reads it" in schema.doc


# --- A real run's frames at every boundary ---------------------------------------------
