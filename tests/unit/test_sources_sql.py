from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from govlake.errors import SourceError
from govlake.simulator.sink import SqlSink
from govlake.sources import sql
from govlake.sources.sql import Window, read_batches
from tests.conftest import DAY, REGISTER


@pytest.fixture
def source(tmp_path, register):
    url = f"sqlite:///{tmp_path / 'credit.sqlite'}"
    SqlSink(url).replace(REGISTER, register.rows)
    return url


def _read(url, window, batch_rows=50_000) -> pa.Table:
    return pa.Table.from_batches(
        list(read_batches(url, REGISTER, window, batch_rows)), REGISTER.raw_schema()
    )


def test_full_read_has_every_row_in_key_order(source, register):
    table = _read(source, None)
    assert table.schema == REGISTER.raw_schema()
    assert table.column("enterprise_id").to_pylist() == sorted(register.rows["enterprise_id"])


def test_window_selects_rows_by_watermark(source, register):
    start = datetime.combine(DAY, datetime.min.time()) - timedelta(days=5)
    window = Window(start, start + timedelta(days=1))
    stamps = register.rows["updated_at"]
    expected = sorted(register.rows["enterprise_id"][(stamps >= start) & (stamps < window.end)])
    assert 0 < len(expected) < len(register.rows)
    assert _read(source, window).column("enterprise_id").to_pylist() == expected


def test_values_arrive_as_the_source_stores_them(source, register):
    table = _read(source, None).to_pandas().set_index("enterprise_id")
    rows = register.rows.set_index("enterprise_id")
    for column in ("uscc", "name", "established_on", "legal_rep_id_number"):
        assert table[column].equals(rows[column].where(rows[column].notna(), None)), column


def test_batches_are_bounded(source, register):
    batches = list(read_batches(source, REGISTER, None, batch_rows=64))
    assert max(b.num_rows for b in batches) <= 64
    assert sum(b.num_rows for b in batches) == len(register.rows)


def test_generic_sqlalchemy_path_agrees_with_adbc(source):
    stmt = sql.select_changes(REGISTER, None)
    generic = pa.Table.from_batches(
        [
            sql.to_raw_schema(b, REGISTER.raw_schema())
            for b in sql._sqlalchemy_batches(source, stmt, 97)
        ]
    )
    adbc = _read(source, None)
    for name in REGISTER.column_names:
        if name != "registered_capital":  # numeric text may differ in trailing zeros by driver
            assert generic.column(name).to_pylist() == adbc.column(name).to_pylist(), name


def test_unreadable_source_is_one_clear_error(tmp_path):
    with pytest.raises(SourceError, match="reading credit.enterprise_register from sqlite"):
        _read(f"sqlite:///{tmp_path / 'missing.sqlite'}", None)


def test_read_ahead_hands_over_the_reader_error_after_the_batches_before_it():
    from govlake.sources.sql import _read_ahead

    closed = []

    def failing():
        try:
            yield 1
            yield 2
            raise ValueError("connection lost")
        finally:
            closed.append("failing")

    got = []
    with pytest.raises(ValueError, match="connection lost"):
        got.extend(_read_ahead(failing()))
    assert got == [1, 2] and closed == ["failing"]


def test_read_ahead_closed_early_stops_the_reader_and_closes_it():
    from govlake.sources.sql import _read_ahead

    closed = []

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.append("endless")

    reader = _read_ahead(endless())
    assert [next(reader), next(reader)] == [0, 1]
    reader.close()
    assert closed == ["endless"]  # the connection is closed before close() returns
