from __future__ import annotations

import json
import subprocess
import sys

import pytest

from exportcast.service.cli.main import main


def test_forecast_json_on_bundled_data(capsys):
    assert main(["forecast", "--json", "--model", "auto", "--paths", "1000"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["series"] == "kr-exports" and out["unit"] == "USD millions"
    assert out["data_through"] == "2026-05"
    assert out["model"] == "auto" and out["members"] == ["ets", "sarima", "growth"]
    assert set(out["weights"]) == set(out["members"])
    assert out["expected_error"]["m"] == 5
    assert out["levels"] == [80.0, 95.0]
    years = out["years"]
    assert [y["year"] for y in years] == [2026, 2027, 2028, 2029, 2030]
    y2026 = years[0]
    assert y2026["months_observed"] == 5
    assert y2026["actual_to_date"] == pytest.approx(394_461.47, rel=1e-6)
    lo80, hi80 = y2026["intervals"]["80"]
    lo95, hi95 = y2026["intervals"]["95"]
    assert y2026["actual_to_date"] < lo95 <= lo80 <= y2026["median"] <= hi80 <= hi95
    assert set(y2026["prob_at_least"]) == {"700000", "1000000"}
    for y in years:
        p700, p1t = y["prob_at_least"]["700000"], y["prob_at_least"]["1000000"]
        assert 0 <= p1t <= p700 <= 1
    amounts = [t["amount"] for t in out["targets"]]
    assert amounts == [700000.0, 1000000.0]
    for t in out["targets"]:
        assert sum(t["crossing_year"].values()) == pytest.approx(1.0, abs=1e-3)
        assert "later" in t["crossing_year"]
    assert out["monthly"][0]["month"] == "2026-06"


def test_forecast_table_reads_well(capsys):
    assert main(["forecast", "--model", "snaive", "--years", "2"]) == 0
    text = capsys.readouterr().out
    assert "data through 2026-05" in text
    assert "2026" in text and "2027" in text and "80% interval" in text
    assert "target $1,000.0B" in text


def test_forecast_from_csv_reports_bad_rows(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("month,value\n2020-01,1\n2020-02,x\n2020-04,3\n")
    assert main(["forecast", "--csv", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "not a number" in err


def test_console_script_runs_as_a_process(tmp_path, kr):
    csv = tmp_path / "mine.csv"
    rows = [f"{m},{v}" for m, v in zip(kr.months[-120:], kr.values[-120:], strict=True)]
    csv.write_text("month,value\n" + "\n".join(rows) + "\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "exportcast.service.cli.main",
            "forecast",
            "--csv",
            str(csv),
            "--model",
            "ets",
            "--years",
            "1",
            "--targets",
            "700000",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = json.loads(done.stdout)
    assert out["series"] == "mine" and out["years"][0]["year"] == 2026
    assert "700000" in out["years"][0]["prob_at_least"]


def test_backtest_command_prints_a_table_json_and_a_plot(tmp_path, capsys):
    png = tmp_path / "bt.png"
    args = [
        "backtest",
        "--from-year",
        "2025",
        "--models",
        "snaive",
        "--members",
        "ets,growth",
        "--paths",
        "200",
        "--jobs",
        "1",
        "--plot",
        str(png),
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "MAPE of the year-end total" in text
    for name in ("auto", "ets", "growth", "snaive", "run_rate", "ytd_growth", "seasonal_naive"):
        assert f"\n{name} " in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main([*args[:-2], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    row = next(s for s in out["scores"] if s["model"] == "auto" and s["m"] == "all")
    assert row["n"] == 12 and row["coverage"]["80"] is not None
