from __future__ import annotations

import json
import subprocess
import sys

import pytest

from exportcast.models.validate import check_rows
from exportcast.service.cli.main import main
from exportcast.service.config import get_settings
from exportcast.service.store.connect import open_store, redacted


def test_forecast_json_on_bundled_data(capsys):
    assert main(["forecast", "--json", "--model", "auto", "--paths", "1000"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["series"] == "kr-exports" and out["unit"] == "USD millions"
    assert out["data_through"] == "2026-09"
    assert out["model"] == "auto" and out["members"] == ["ets", "sarima", "growth", "theta"]
    assert set(out["weights"]) == set(out["members"])
    assert out["expected_error"]["m"] == 9
    assert out["levels"] == [80.0, 95.0]
    years = out["years"]
    assert [y["year"] for y in years] == [2026, 2027, 2028, 2029, 2030]
    y2026 = years[0]
    assert y2026["months_observed"] == 9
    assert y2026["actual_to_date"] == pytest.approx(814_837.855, rel=1e-6)
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
    assert out["monthly"][0]["month"] == "2026-10"


def test_forecast_table_reads_well(capsys):
    assert main(["forecast", "--model", "snaive", "--years", "2"]) == 0
    text = capsys.readouterr().out
    assert "data through 2026-09" in text
    assert "2026" in text and "2027" in text and "80% interval" in text
    assert "target $1,000.0B" in text


def test_forecast_says_why_it_moved_since_the_month_before(capsys):
    argv = ["forecast", "--model", "ets", "--years", "3", "--paths", "300", "--moves"]
    assert main([*argv, "--through", "2026-06"]) == 0
    text = capsys.readouterr().out
    assert "why it moved since data through 2026-05 with 2026-06's flashes:" in text
    assert "2026-06 published" in text and "left over" in text
    assert main([*argv, "--through", "2026-06", "--json"]) == 0
    moves = json.loads(capsys.readouterr().out)["moves"]
    year = str(moves["years"][0])
    change = moves["after"][year]["median"] - moves["before"][year]["median"]
    assert sum(s["years"][year]["median"] for s in moves["steps"]) == pytest.approx(
        change, abs=0.01
    )
    # A single model learns nothing: June (its surprise against June's flashes), then July's
    # flash, then what is left.
    assert [s["kind"] for s in moves["steps"]] == ["month", "flash", "residual"]
    assert moves["steps"][0]["detail"]["published"] == pytest.approx(101_959.795)
    assert moves["steps"][1]["label"] == "flash 2026-07, days 1-20"


def test_forecast_with_a_flash_file_as_of_a_month(tmp_path, capsys):
    flashes = tmp_path / "flashes.csv"
    flashes.write_text("month,period,value\n2026-05,d1_10,17940.196\n2026-05,d1_20,52495.723\n")
    argv = ["forecast", "--model", "sarima", "--years", "1", "--through", "2026-04"]
    # A file of one month has no history to read its flash with: named, not used.
    assert main([*argv, "--flashes", str(flashes), "--country", "KR"]) == 0
    assert "not used: 0 past months with a d1_20 flash" in capsys.readouterr().out
    # The bundled series brings its own flash history and calendar.
    assert main([*argv, "--json"]) == 0
    used = json.loads(capsys.readouterr().out)["flash"]
    assert used["month"] == "2026-05" and used["used"] and used["history_months"] == 124
    assert main([*argv, "--flashes", str(flashes), "--country", "XX"]) == 2
    assert "no holiday calendar" in capsys.readouterr().err


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


def test_backtest_of_horizons_scores_every_horizon_against_the_annual_baselines(tmp_path, capsys):
    png = tmp_path / "horizons.png"
    args = ["backtest", "--series", "us-exports-gs", "--horizons", "1-3", "--from-year", "2015"]
    args += ["--to-year", "2019", "--members", "growth", "--paths", "200", "--jobs", "1"]
    assert main([*args, "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("us-exports-gs: multi-year totals by horizon")
    rows = {line.split()[0]: line.split() for line in text.splitlines()[3:10] if line.strip()}
    assert {"auto", "auto_raw", "growth", "flat", "cagr10", "rw_drift"} <= set(rows)
    assert "cases per horizon (auto): h1 " in text and "reliability of auto" in text
    assert png.stat().st_size > 10_000
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    scored = {(s["model"], s["horizon"]): s for s in out["scores"]}
    # Origins 2015-2019 at 12 months known each; `--to-year` bounds the origins, and the
    # years they project (up to 2021) are all in the series.
    assert [scored[("auto", h)]["n"] for h in (1, 2, 3)] == [60, 60, 60]
    assert 0 <= scored[("flat", 2)]["brier"] <= 1
    assert main(["backtest", "--horizons", "0-9"]) == 2


def test_backtest_leaves_out_what_a_short_early_history_cannot_fit(tmp_path, kr, capsys):
    csv = tmp_path / "from-feb.csv"
    rows = [f"{m},{v}" for m, v in zip(kr.months[1:], kr.values[1:], strict=True)]
    csv.write_text("month,value\n" + "\n".join(rows) + "\n")
    args = ["backtest", "--csv", str(csv), "--from-year", "2003", "--to-year", "2004"]
    args += ["--members", "ets,sarima,growth", "--models", "", "--paths", "100", "--jobs", "1"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "left out: sarima at 2003 m=0-11, 2004 m=0 (needs at least 48 months)" in text
    assert "left out: ets at 2003 m=0 (needs at least 36 months)" in text
    sarima = next(line for line in text.splitlines() if line.startswith("sarima "))
    assert sarima.split()[1] == "-"  # no case at m = 0
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "sarima at 2003 m=0-11, 2004 m=0 (needs at least 48 months)" in out["left_out"]
    n = {s["model"]: s["n"] for s in out["scores"] if s["m"] == "all"}
    assert n["sarima"] == 11 and n["auto"] == 23 and n["run_rate"] == 24


@pytest.mark.parametrize(
    "argv",
    [
        ["forecast", "--csv", "{missing}"],
        ["backtest", "--csv", "{missing}"],
        ["ingest", "{missing}", "--series", "kr-exports"],
    ],
)
def test_a_missing_file_is_named_in_one_line(tmp_path, capsys, argv):
    missing = tmp_path / "missing.csv"
    assert main([a.format(missing=missing) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(missing) in err and "No such file" in err


@pytest.fixture
def settings_env(monkeypatch):
    """Set EXPORTCAST_* variables for one test: the settings are read again, before and after."""
    get_settings.cache_clear()
    yield monkeypatch.setenv
    monkeypatch.undo()
    get_settings.cache_clear()


def test_ingest_names_the_store_it_looked_in(tmp_path, capsys, settings_env):
    batch = tmp_path / "june.csv"
    batch.write_text("month,value\n2026-10,80500\n")
    empty = tmp_path / "elsewhere"
    settings_env("EXPORTCAST_DATA_DIR", str(empty))
    assert main(["ingest", str(batch), "--series", "kr-exports"]) == 2
    err = capsys.readouterr().err
    assert str(empty / "exportcast.db") in err and "no series 'kr-exports'" in err
    assert "EXPORTCAST_DATA_DIR" in err and "EXPORTCAST_DATABASE_URL" in err
    assert not empty.exists()  # no empty store left behind
    # A store that exists but does not hold the series.
    open_store(f"sqlite:///{empty / 'exportcast.db'}").close()
    assert main(["ingest", str(batch), "--series", "kr-exports"]) == 2
    err = capsys.readouterr().err
    assert f"no series 'kr-exports' in the store sqlite:///{empty / 'exportcast.db'}" in err
    assert "EXPORTCAST_DATA_DIR" in err


def test_a_database_password_is_never_shown():
    assert redacted("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert redacted("postgresql://db/x?user=app&password=s3cret") == (
        "postgresql://db/x?user=app&password=***"
    )
    assert redacted("postgresql://app@db/x") == "postgresql://app@db/x"
    assert redacted("sqlite:///data/exportcast.db") == "sqlite:///data/exportcast.db"


def test_ingest_stores_a_flash_file_or_nothing(tmp_path, capsys, settings_env):
    settings_env("EXPORTCAST_DATA_DIR", str(tmp_path))
    store = open_store(f"sqlite:///{tmp_path / 'exportcast.db'}")
    store.create_series("s", "S", "u")
    store.ingest("s", check_rows([(2, "2026-04", "10"), (3, "2026-05", "11")]))
    store.close()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("month,period,value\n2026-05,d1_10,3\n2026-06,d1_10,4\n")
    bad.write_text("month,period,value\n2026-06,d1_20,5\n2026-07,d1_10,1\n")
    assert main(["ingest", str(bad), "--series", "s", "--flashes"]) == 2
    assert "past 2026-06" in capsys.readouterr().err
    assert main(["ingest", str(good), "--series", "s", "--flashes"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["new"] == ["2026-05 d1_10", "2026-06 d1_10"] and out["job"] is not None
    store = open_store(f"sqlite:///{tmp_path / 'exportcast.db'}")
    assert [f.value for f in store.flashes("s")] == [3, 4]
    store.close()


def test_hierarchy_from_files_adds_up_and_reads_as_a_table(tmp_path, capsys):
    from importlib import resources

    data = resources.files("exportcast.models.datasets")
    total = tmp_path / "korea.csv"
    items = tmp_path / "items.csv"
    total.write_text(data.joinpath("kr-exports.csv").read_text())
    items.write_text(data.joinpath("kr-exports-items.csv").read_text())
    argv = ["hierarchy", "--total", str(total), "--items", str(items), "--model", "snaive"]
    assert main([*argv, "--json", "--paths", "500", "--target", "semiconductors:250000"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hierarchy"]["total_series"] == "korea"
    assert out["hierarchy"]["classification"] == "kcs10"
    assert out["method"] == "top_down" and out["coherence"]["largest_gap"] == 0.0
    assert set(out["nodes"]["semiconductors"]["years"][0]["prob_at_least"]) == {"250000"}
    assert [c["year"] for c in out["concentration"]] == [2026, 2027, 2028, 2029, 2030]
    assert main([*argv, "--method", "mint_shrink", "--years", "2"]) == 0
    table = capsys.readouterr().out
    assert "method: mint_shrink" in table and "semiconductors" in table
    assert "Herfindahl" in table and "2027" in table


def test_hierarchy_refuses_items_of_two_classifications(tmp_path, capsys):
    from importlib import resources

    data = resources.files("exportcast.models.datasets")
    total = tmp_path / "korea.csv"
    total.write_text(data.joinpath("kr-exports.csv").read_text())
    items = tmp_path / "items.csv"
    rows = ["month,item,value"] + [
        f"2020-{m:02d},{item},100"
        for m in range(1, 13)
        for item in ("kcs10:ships", "hs4_8901:ships")
    ]
    items.write_text("\n".join(rows) + "\n")
    with pytest.raises(SystemExit, match="different classifications"):
        main(["hierarchy", "--total", str(total), "--items", str(items), "--model", "snaive"])


def test_markets_reads_as_a_table_and_as_the_services_json(capsys):
    argv = ["markets", "--model", "snaive", "--paths", "500"]
    assert main([*argv, "--json", "--target", "china<0.18", "--target", "asean+eu>0.3333"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["newest_composition"] == "2025-07..2026-06"
    assert out["year_to_date"]["months"] == 6
    first = out["years"][0]
    assert first["year"] == 2026
    assert [t["target"] for t in first["targets"]] == ["china<0.18", "asean+eu>0.3333"]
    assert out["coherence"]["largest_relative_gap"] < 1e-12
    assert main([*argv, "--years", "2", "--through", "2025-12"]) == 0
    table = capsys.readouterr().out
    # through 2025-12 there are no twelve months of partners yet: 2023 is the newest
    assert "newest composition 2023" in table and "Taiwan" in table and "Herfindahl" in table


def test_markets_names_bad_destination_rows_and_questions(tmp_path, capsys):
    rows = tmp_path / "destinations.csv"
    rows.write_text("period,destination,value\n2023,CHN,1\n2023,Mars,2\n")
    assert main(["markets", "--destinations", str(rows), "--model", "snaive"]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "ISO 3166" in err
    with pytest.raises(SystemExit, match="unknown region 'mars'"):
        main(["markets", "--target", "mars<0.2"])
