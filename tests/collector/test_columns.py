"""The compiled column packer (``collector/decode/_columns.c``) builds what pyarrow builds.

- ``columns.array`` equals ``pa.array`` for generated lists of every kind the decoder produces
  (text of any script, empty strings, None, ints at the edges of each width), and where the packer
  refuses (another type, a value out of range, lone surrogates) pyarrow decides: the same array,
  or the same exception type.
- The packer's buffers are what Arrow expects (validity only when something is null).
- A decoded GenAI request gives equal tables with and without the packer.
- ``scatter`` spreads sparse rows into column lists as its Python twin does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.decode import columns, parse_and_decode
from tests.collector.fixtures.bench_traffic import bench_request

_columns = pytest.importorskip("collector.decode._columns")

_LIMITS = {pa.int8(): 2**7, pa.int32(): 2**31, pa.int64(): 2**63}


def test_the_compiled_packer_is_built() -> None:
    """`pip install -e .` compiles it (setup.py); without it pyarrow builds every column."""
    assert columns._columns is not None


def _outcome(build: Callable[[], pa.Array]) -> Any:
    try:
        array = build()
    except Exception as e:
        return ("raises", type(e).__name__)
    array.validate(full=True)
    return array


def _same(values: list[Any], type_: pa.DataType) -> None:
    packed = _outcome(lambda: columns.array(values, type_))
    reference = _outcome(lambda: pa.array(values, type_))
    if isinstance(reference, pa.Array):
        assert isinstance(packed, pa.Array) and packed.equals(reference), (values, type_)
        assert packed.null_count == reference.null_count
    else:
        assert packed == reference, (values, type_)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | st.text(max_size=40), max_size=60))
def test_strings_equal_pyarrow(values: list[str | None]) -> None:
    _same(values, pa.string())


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(_LIMITS)), st.data())
def test_integers_equal_pyarrow(type_: pa.DataType, data: st.DataObject) -> None:
    limit = _LIMITS[type_]
    edge = st.sampled_from([-limit - 1, -limit, -1, 0, 1, limit - 1, limit, 2**64])
    values = data.draw(st.lists(st.none() | st.integers(-limit, limit - 1) | edge, max_size=60))
    _same(values, type_)


@pytest.mark.parametrize(
    ("values", "type_"),
    [
        ([], pa.string()),
        ([None, None], pa.string()),
        (["", None, ""], pa.string()),
        (["ascii", "ключ", "🙂 emoji", "中文"], pa.string()),
        (["a", "\ud800"], pa.string()),  # a lone surrogate: not UTF-8, pyarrow refuses
        (["a", 1], pa.string()),  # another type: pyarrow decides
        (["a", b"bytes"], pa.string()),
        ([1, True, None], pa.int64()),  # bool: pyarrow's own rules
        ([1, 2.0], pa.int64()),
        ([1, "2"], pa.int32()),
        ([127, 128], pa.int8()),
        ([2**63], pa.int64()),
        ([-(2**63), 2**63 - 1, None], pa.int64()),
        ([None] * 9, pa.int32()),
        ([1.5, None], pa.float64()),  # not a packed type
    ],
)
def test_edge_cases_equal_pyarrow(values: list[Any], type_: pa.DataType) -> None:
    _same(values, type_)


def test_str_subclass_is_text() -> None:
    class Name(str):
        pass

    _same([Name("agent"), "x", None], pa.string())


def test_buffers_follow_arrow_layout() -> None:
    validity, offsets, data, nulls = _columns.strings(["ab", None, "", "é"])
    assert nulls == 1 and validity is not None and validity[0] & 0b1111 == 0b1101
    assert list(memoryview(offsets).cast("i")) == [0, 2, 2, 2, 4]
    assert data == "abé".encode()
    assert _columns.strings(["x"])[0] is None
    validity, data, nulls = _columns.integers([1, None, -1], 4)
    assert nulls == 1 and validity is not None and validity[0] & 0b111 == 0b101
    assert list(memoryview(data).cast("i")) == [1, 0, -1]
    with pytest.raises(ValueError):
        _columns.integers([1], 2)


def test_a_decoded_request_is_the_same_without_the_packer(monkeypatch: pytest.MonkeyPatch) -> None:
    body = bench_request(3, 64)
    packed = parse_and_decode("traces", body, "protobuf").batch
    monkeypatch.setattr(columns, "_columns", None)
    plain = parse_and_decode("traces", body, "protobuf").batch
    for name in ("spans", "span_events", "span_links"):
        assert getattr(packed, name).equals(getattr(plain, name)), name


def _scattered(rows: list[dict[str, Any]], names: list[str], compiled: bool) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {name: [None] * len(rows) for name in names}
    if compiled:
        _columns.scatter(rows, out)
    else:
        saved, columns._columns = columns._columns, None
        try:
            columns.scatter(rows, out)
        finally:
            columns._columns = saved
    return out


_NAMES = ["operation", "provider", "input_tokens", "agent_name"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(_NAMES), st.none() | st.integers() | st.text(max_size=5), max_size=4),
        max_size=30,
    )
)
def test_scatter_equals_its_python_twin(rows: list[dict[str, Any]]) -> None:
    compiled = _scattered(rows, _NAMES, compiled=True)
    assert compiled == _scattered(rows, _NAMES, compiled=False)
    for i, row in enumerate(rows):
        assert all(compiled[k][i] == v for k, v in row.items())


def test_scatter_refuses_what_does_not_fit() -> None:
    with pytest.raises(KeyError):
        _columns.scatter([{"unknown": 1}], {"operation": [None]})
    with pytest.raises(IndexError):
        _columns.scatter([{}, {"operation": "chat"}], {"operation": [None]})
    with pytest.raises(TypeError):
        _columns.scatter([("operation", 1)], {"operation": [None]})
