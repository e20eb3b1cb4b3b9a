"""The benchmarks' own decisions, on fabricated inputs: when `accuracy` fails (its exit code)
and where `break_2026` reads the official outlooks from. The benchmarks themselves are not
run here."""

from __future__ import annotations

import math

import pytest

from benchmarks import accuracy
from benchmarks.break_2026 import outlooks_for
from exportcast.models.evaluation.scoring import Score
from exportcast.models.evaluation.yardstick import Report
from exportcast.models.registry import AUTO_MEMBERS

GOOD_COVERAGE = {80.0: 0.8, 95.0: 0.95}


def fabricated(
    auto: dict[int, float] | None = None,
    member: float = 6.0,
    naive: float = 10.0,
    coverage: dict[str, dict[float, float | None]] | None = None,
) -> Report:
    """A report whose scores say what the arguments say: auto's MAPE at each m (5 unless
    given; NaN: no case there), every member's and every naive baseline's, and auto's
    coverage by months ("all", "0-2", ...)."""
    auto = auto or {}
    coverage = coverage or {}

    def row(model: str, months: str, mape: float, cov: dict | None = None) -> Score:
        return Score(model, months, 24, mape, mape, 0.0, cov or GOOD_COVERAGE, None)

    scores = []
    for m in range(12):
        if not math.isnan(auto.get(m, 5.0)):
            scores.append(row("auto", str(m), auto.get(m, 5.0)))
        scores += [row(name, str(m), member) for name in AUTO_MEMBERS]
        scores += [row(name, str(m), naive) for name in accuracy.NAIVE]
    for months in ("all", *accuracy.M_GROUPS):
        scores.append(row("auto", months, 5.0, coverage.get(months)))
    return Report([], scores, 0.0, {})


def test_every_goal_met_is_exit_code_0():
    assert accuracy.missed_goals(fabricated(), seconds=100.0) == []


def test_accuracy_at_one_m_against_the_naive_baselines_and_the_best_member():
    assert accuracy.accuracy_met(6.0, 10.0, 7.0)  # exactly 0.6 x naive is met
    assert not accuracy.accuracy_met(6.01, 10.0, 7.0)
    assert not accuracy.accuracy_met(5.0, 10.0, 5.0)  # a tie with a member is not better
    assert not accuracy.accuracy_met(float("nan"), 10.0, 7.0)
    missed = accuracy.missed_goals(fabricated(auto={3: 6.5}), seconds=100.0)
    assert len(missed) == 1 and missed[0].startswith("m=3:")
    missed = accuracy.missed_goals(fabricated(member=5.0), seconds=100.0)
    assert len(missed) == 12  # auto no better than its members anywhere
    missed = accuracy.missed_goals(fabricated(auto={11: float("nan")}), seconds=100.0)
    assert len(missed) == 1 and missed[0].startswith("m=11:")


@pytest.mark.parametrize(
    ("months", "coverage", "named"),
    [
        ("all", {80.0: 0.70, 95.0: 0.95}, "coverage 80%"),
        ("all", {80.0: 0.80, 95.0: 0.99}, "coverage 95%"),
        ("all", {80.0: 0.80, 95.0: None}, "coverage 95%"),
        ("6-8", {80.0: 0.80, 95.0: 0.85}, "coverage 95% at m 6-8"),
        ("0-2", {80.0: 0.65, 95.0: 0.95}, "coverage 80% at m 0-2"),
    ],
)
def test_coverage_outside_its_goal_is_a_miss(months, coverage, named):
    missed = accuracy.missed_goals(fabricated(coverage={months: coverage}), seconds=100.0)
    assert len(missed) == 1 and missed[0].startswith(named), missed


def test_the_run_time_is_a_goal_of_a_cold_run_only():
    assert accuracy.missed_goals(fabricated(), seconds=601.0) == ["run time 601s (goal under 600s)"]
    assert accuracy.missed_goals(fabricated(), seconds=601.0, timed=False) == []


def test_main_returns_1_when_a_goal_is_missed(monkeypatch, tmp_path):
    """main's exit code is the decision: the yardstick replaced by a fabricated report."""
    monkeypatch.setattr(accuracy, "yardstick", lambda *a, **k: fabricated(auto={0: 9.0}))
    monkeypatch.setattr(accuracy, "table", lambda report: "")
    monkeypatch.setattr(accuracy, "autoets_cases", lambda series, at: [])
    monkeypatch.setattr(accuracy, "score_table", lambda cases: fabricated(auto={0: 9.0}).scores)
    plot = tmp_path / "backtest.png"
    monkeypatch.setattr("sys.argv", ["accuracy.py", "--plot", str(plot)])
    assert accuracy.main() == 1
    monkeypatch.setattr(accuracy, "yardstick", lambda *a, **k: fabricated())
    monkeypatch.setattr(accuracy, "score_table", lambda cases: fabricated().scores)
    assert accuracy.main() == 0
    assert plot.stat().st_size > 10_000


def test_the_2026_outlooks_are_read_from_the_bundled_file():
    outlooks = {name: ref.value for name, ref in outlooks_for(2026).items()}
    assert outlooks == {
        "KIET": 697_100,
        "KITA": 711_000,
        "Korea Eximbank": 720_000,
        "Bank of Korea": 729_600,
        "KDI": 691_500,
    }
    # A forecaster that revised its outlook counts once, with its latest.
    assert outlooks_for(2025)["KITA"].value == 704_000
    assert outlooks_for(2030) == {}
