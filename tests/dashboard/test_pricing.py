"""Pricing: the built-in table, user files (TOML/JSON) and cache-aware cost, in Python and in SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard.data.pricing import ModelPrice, PricingError, cost_usd, load_pricing, price_for
from dashboard.data.usage import usage_ctes


def test_longest_prefix_wins_and_provider_prefix_is_stripped() -> None:
    prices = load_pricing(None)
    mini = price_for("gpt-4o-mini-2024-07-18", prices)
    full = price_for("openai/gpt-4o-2024-08-06", prices)
    assert mini is not None and mini.model == "gpt-4o-mini"
    assert full is not None and full.model == "gpt-4o"
    assert price_for("gpt-4ox", prices) is None  # a prefix must end at a dash
    assert price_for("my-local-llama", prices) is None


def test_cache_aware_cost() -> None:
    p = ModelPrice("m", input=2.0, output=10.0, cache_read=0.5, cache_write=2.5)
    # 1000 input of which 600 cache reads and 100 cache writes; 200 output
    assert cost_usd(p, 1000, 200, 600, 100) == pytest.approx(
        (300 * 2.0 + 600 * 0.5 + 100 * 2.5 + 200 * 10.0) / 1e6
    )
    no_cache_price = ModelPrice("m", input=2.0, output=10.0)
    assert cost_usd(no_cache_price, 1000, 0, 600) == pytest.approx(1000 * 2.0 / 1e6)
    assert cost_usd(None, 10, 10) is None


def test_user_file_extends_and_overrides(tmp_path: Path) -> None:
    toml = tmp_path / "prices.toml"
    toml.write_text(
        '[models."my-model"]\ninput = 1.0\noutput = 3.0\ncache_read = 0.1\n\n'
        '[models."gpt-4o"]\ninput = 9.0\noutput = 9.0\n'
    )
    prices = load_pricing(str(toml))
    mine, gpt = price_for("my-model-v2", prices), price_for("gpt-4o", prices)
    assert mine == ModelPrice("my-model", 1.0, 3.0, 0.1, None)
    assert gpt is not None and gpt.input == 9.0
    js = tmp_path / "prices.json"
    js.write_text('{"models": {"other": {"input": 0.5, "output": 1}}}')
    assert price_for("other", load_pricing(str(js))) == ModelPrice("other", 0.5, 1.0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[models."x"]\noutput = 1.0\n', "models.x.input: missing"),
        ('[models."x"]\ninput = -1\noutput = 1\n', "models.x.input: expected a non-negative number"),
        ('[models."x"]\ninput = 1\noutput = 1\ncache = 2\n', "models.x: unknown key 'cache'"),
        ("not toml = = =", "cannot read pricing file"),
    ],
)
def test_bad_files_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(body)
    with pytest.raises(PricingError, match=message):
        load_pricing(str(path))


def test_sql_cost_matches_python() -> None:
    prices = load_pricing(None)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE spans (trace_id VARCHAR, span_id VARCHAR, resolved_agent_name VARCHAR,"
        " operation VARCHAR, request_model VARCHAR, response_model VARCHAR, input_tokens BIGINT,"
        " output_tokens BIGINT, cache_read_tokens BIGINT,"
        " cache_creation_tokens BIGINT, reasoning_tokens BIGINT)"
    )
    rows = [
        ("t", "1", "a", "chat", "gpt-4o", "gpt-4o-2024-08-06", 1200, 80, 1000, None, None),
        ("t", "2", "a", "chat", "claude-3-5-sonnet-20241022", None, 5000, 300, 1000, 2000, None),
        ("t", "3", "b", "chat", "unknown-model", None, 10, 10, None, None, None),
        ("t", "4", "b", "invoke_agent", "gpt-4o", None, 99999, 99999, None, None, None),  # aggregate: skipped
    ]
    con.executemany("INSERT INTO spans VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    sql, params = usage_ctes(prices)
    got = dict(con.execute(f"WITH {sql} SELECT span_id, cost FROM usage", params).fetchall())
    assert set(got) == {"1", "2", "3"}
    for _, sid, _, _, req, resp, i, o, cr, cw, _ in rows[:3]:
        expected = cost_usd(price_for(resp or req, prices), i, o, cr, cw)
        assert got[sid] == (pytest.approx(expected) if expected is not None else None)
