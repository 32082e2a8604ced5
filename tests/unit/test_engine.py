"""govlake's validation engine against GX's own validator: the same suite over the same rows must
fail the same rows, expectation by expectation, for every table of the tiny history (with the
parents' lookups attached, as the validate step attaches them)."""

from __future__ import annotations

import json
import logging

import great_expectations as gx
import pyarrow as pa
import pytest

from govlake.contracts import get
from govlake.quality import engine
from govlake.quality.normalise import normalise
from govlake.quality.split import _ARROW_STRINGS
from govlake.quality.suite import Reference, attach_lookups, build_suite
from tests.conftest import EXPECTATIONS, TINY
from tests.truth import _order, history, raw_table, score


@pytest.fixture(scope="module")
def tiny():
    batches = history(TINY, rate=0.05)
    return batches, score(batches, EXPECTATIONS)


def _frame(batches, scored, name):
    contract = get(name)
    rows, _ = normalise(raw_table(batches[name]), contract)
    references = {
        parent: Reference.of(get(parent), split.clean, split.quarantine)
        for parent, split in scored.results.items()
    }
    frame = rows.to_pandas(types_mapper=_ARROW_STRINGS.get)
    return attach_lookups(frame, contract, EXPECTATIONS, references)


def _gx_results(frame, suite, name):
    """GX's verdicts on the same rows, its text as Python strings (GX's pandas metrics do not
    see pandas' Arrow-backed missing values as missing)."""
    text = frame.select_dtypes("string").columns
    frame = frame.astype({c: object for c in text})
    frame[text] = frame[text].where(frame[text].notna(), None)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("rows")
        .add_dataframe_asset(name)  # GX caches metrics by batch: one asset per table
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    return batch.validate(suite, result_format={"result_format": "COMPLETE"}).results


def _key(config) -> str:
    """An expectation by what it checks (GX's copy carries its batch id too)."""
    document = config.to_json_dict()
    kwargs = {k: v for k, v in document["kwargs"].items() if k != "batch_id"}
    return json.dumps([document["type"], kwargs, document["meta"]], sort_keys=True)


def test_the_engine_fails_exactly_the_rows_gx_fails(tiny):
    batches, scored = tiny
    compared = failing = 0
    for name in _order(batches, EXPECTATIONS):
        frame = _frame(batches, scored, name)
        suite = build_suite(get(name), EXPECTATIONS, set(frame.columns))
        ours = engine.validate(frame, suite)
        theirs = {_key(r.expectation_config): r for r in _gx_results(frame, suite, name)}
        assert len(ours) == len(theirs), name  # GX orders its results its own way
        for mine in ours:
            gx_result = theirs[_key(mine.expectation.configuration)]
            rule = mine.expectation.meta["rule"]
            assert not gx_result.exception_info.get("raised_exception"), (name, rule)
            expected = sorted(int(i) for i in gx_result.result["unexpected_index_list"])
            assert mine.unexpected.tolist() == expected, (name, rule)
            assert gx_result.success == (len(expected) == 0), (name, rule)
            if "missing_count" in gx_result.result:
                assert mine.missing == gx_result.result["missing_count"], (name, rule)
            compared += 1
            failing += bool(expected)
    assert compared > 400 and failing > 50  # every kind of expectation, many of them failing


def test_results_have_gx_shape_and_render(tiny):
    """The engine's results load with GX's own result schema (what Data Docs render from)."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )

    batches, scored = tiny
    name = "enforcement.penalty_decisions"
    frame = _frame(batches, scored, name)
    suite = build_suite(get(name), EXPECTATIONS, set(frame.columns))
    evaluated = engine.validate(frame, suite)
    document = engine.results(frame, suite, evaluated)
    loaded = ExpectationSuiteValidationResultSchema().load(document)
    assert len(loaded.results) == len(suite.expectations)
    failed = [r for r in loaded.results if not r.success]
    assert failed and all(r.result["unexpected_count"] > 0 for r in failed)
    assert loaded.statistics["unsuccessful_expectations"] == len(failed)


def test_unsupported_expectations_are_refused_not_skipped():
    suite = gx.ExpectationSuite(
        name="t", expectations=[gx.expectations.ExpectColumnMeanToBeBetween(column="x")]
    )
    with pytest.raises(ValueError, match="does not evaluate"):
        engine.validate(pa.table({"x": [1, 2]}).to_pandas(), suite)
