"""`exportcast backtest`: the yardstick as a table, JSON and a plot."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

from exportcast.models.evaluation.horizons import (
    ANNUAL_BASELINES,
    HorizonReport,
    horizon_backtest,
    parse_horizons,
    reliability,
)
from exportcast.models.evaluation.scoring import LEVELS
from exportcast.models.evaluation.yardstick import Report, yardstick
from exportcast.models.registry import AUTO_MEMBERS, NAMES, REFERENCES, get_model
from exportcast.models.series import MonthlySeries
from exportcast.service.cli.progress import progress_bar
from exportcast.service.cli.sources import add_source_arguments, load_series
from exportcast.service.config import get_settings

SHOWN_M = (0, 3, 6, 9, 11)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="rolling-origin backtest of year-end totals")
    add_source_arguments(p)
    p.add_argument(
        "--from-year",
        type=int,
        default=None,
        help="first year scored (default 2010; with --horizons, the sixth year of the series)",
    )
    p.add_argument(
        "--horizons",
        default=None,
        help="score multi-year totals instead: horizons such as 1-5 (1: the year in "
        "progress, 2: the next, ...), from origins at every months-known",
    )
    p.add_argument("--to-year", type=int, default=None)
    p.add_argument(
        "--models",
        default=",".join([*AUTO_MEMBERS, "prophet", "snaive", "prophet_default"]),
        help=f"besides auto and the naive baselines; from {', '.join([*NAMES[1:], *REFERENCES])}",
    )
    p.add_argument("--members", default=",".join(AUTO_MEMBERS), help="auto's members")
    p.add_argument("--paths", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=2, help="processes (one BLAS thread each)")
    p.add_argument("--cache-dir", type=Path, default=None, help="default: the service's fit cache")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--plot",
        type=Path,
        help="PNG of error and coverage by months known (with --horizons: by horizon, and "
        "the reliability of the target probabilities)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_series(args)
    if loaded is None:
        return 2
    series, _ = loaded
    members = [m for m in args.members.split(",") if m]
    models = [m for m in args.models.split(",") if m and m not in members]
    cache = (args.cache_dir or get_settings().fit_cache()) / "backtest"
    if args.horizons is not None:
        return run_horizons(args, series, members, cache)
    report = yardstick(
        series,
        members,
        get_model,
        models,
        from_year=args.from_year or 2010,
        to_year=args.to_year,
        n_paths=args.paths,
        jobs=args.jobs,
        cache_dir=cache / series.id,
        progress=progress_bar("fitting"),
    )
    return show(args, lambda: as_json(report), lambda: table(report), lambda p: plot(report, p))


def show(
    args: argparse.Namespace,
    as_dict: Callable[[], dict],
    text: Callable[[], str],
    draw: Callable[[Path], None],
) -> int:
    """A report as JSON or a table, and its plot if one was asked for."""
    print(json.dumps(as_dict(), indent=1) if args.json else text())
    if args.plot:
        draw(args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def run_horizons(
    args: argparse.Namespace, series: MonthlySeries, members: list[str], cache: Path
) -> int:
    try:
        horizons = parse_horizons(args.horizons)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = horizon_backtest(
        series,
        members,
        get_model,
        from_year=args.from_year or series.start // 12 + 6,
        to_year=args.to_year,
        horizons=horizons,
        n_paths=args.paths,
        jobs=args.jobs,
        cache_dir=cache / series.id,
        progress=progress_bar("fitting"),
    )
    return show(
        args,
        lambda: horizons_json(report),
        lambda: horizons_table(report),
        lambda p: plot_horizons(report, p),
    )


def horizons_json(report: HorizonReport) -> dict:
    return {
        "series": report.series,
        "seconds": round(report.seconds, 1),
        "scores": [s.to_dict() for s in report.scores()],
        "reliability": {
            model: [vars(b) for b in reliability(report.select(model))] for model in report.models()
        },
    }


def horizons_table(report: HorizonReport) -> str:
    """Error, bias, coverage, interval score and Brier score by model and horizon."""
    horizons = report.horizons()
    lines = [
        f"{report.series}: multi-year totals by horizon (1: the year in progress), origins at "
        "every months-known",
        "MAPE % / 80% and 95% coverage / Brier score of P(total >= 1, 1.1, 1.25, 1.5, 2 x "
        "the last complete year)",
        f"{'model':10}" + "".join(f"{'h' + str(h):>24}" for h in horizons),
    ]
    for model in report.models():
        row = f"{model:10}"
        for h in horizons:
            s = report.score(model, h)
            if s is None:
                row += f"{'-':>24}"
                continue
            cov = s.score.coverage
            row += f"{s.score.mape:6.1f} {cov[80.0]:4.0%} {cov[95.0]:4.0%} {s.brier:6.3f}  "
        lines.append(row)
    lines.append("")
    lines.append("bias % / Winkler score of the 95% interval (% of the total)")
    for model in report.models():
        row = f"{model:10}"
        for h in horizons:
            s = report.score(model, h)
            w = "" if s is None or s.score.winkler95 is None else f"{s.score.winkler95:.1f}"
            row += f"{'-':>24}" if s is None else f"{s.score.bias:8.1f} {w:>7}        "
        lines.append(row)
    first = report.score("auto", horizons[0])
    if first is not None:
        lines.append(
            "cases per horizon (auto): "
            + ", ".join(f"h{h} {s.score.n}" for h in horizons if (s := report.score("auto", h)))
        )
    lines.append("")
    lines.append(
        "reliability of auto's target probabilities (all horizons): predicted -> observed (n)"
    )
    for b in reliability(report.select("auto")):
        lines.append(f"  {b.low:.1f}-{b.high:.1f}: {b.predicted:5.1%} -> {b.observed:5.1%} ({b.n})")
    lines.append("")
    lines.append(f"run time {report.seconds:.0f}s")
    return "\n".join(lines)


def plot_horizons(report: HorizonReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    horizons = report.horizons()
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.6))
    for model in report.models():
        scores = [report.score(model, h) for h in horizons]
        style = {"lw": 2.5, "color": "black"} if model == "auto" else {"lw": 1.2}
        if model in ANNUAL_BASELINES:
            style["ls"] = "--"
        ax1.plot(horizons, [s.score.mape for s in scores], marker="o", label=model, **style)
        ax2.plot(horizons, [100 * s.score.coverage[80.0] for s in scores], marker="o", **style)
    ax1.set(
        xlabel="horizon (years; 1 = the year in progress)",
        ylabel="MAPE (%)",
        title=f"{report.series}: error of the total",
    )
    ax1.legend(fontsize=8)
    ax2.axhspan(75, 85, color="green", alpha=0.1)
    ax2.set(xlabel="horizon", ylabel="coverage (%)", title="80% interval coverage", ylim=(0, 105))
    ax3.plot([0, 1], [0, 1], color="grey", lw=0.8)
    for model in ("auto", "flat", "rw_drift"):
        bins = reliability(report.select(model))
        if bins:
            ax3.plot(
                [b.predicted for b in bins],
                [b.observed for b in bins],
                marker="o",
                label=model,
                **({"lw": 2.5, "color": "black"} if model == "auto" else {}),
            )
    ax3.set(
        xlabel="predicted P(total >= threshold)",
        ylabel="observed frequency",
        title="reliability, all horizons",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax3.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def as_json(report: Report) -> dict:
    out = {
        "seconds": round(report.seconds, 1),
        "fit_seconds": {k: round(v, 1) for k, v in report.fit_seconds.items()},
        "scores": [s.to_dict() for s in report.scores],
    }
    if report.skipped:
        out["left_out"] = report.left_out()
    return out


def _order(report: Report) -> list[str]:
    names = list(dict.fromkeys(s.model for s in report.scores))
    return sorted(names, key=lambda n: n != "auto")  # auto first, if it has any case


def table(report: Report) -> str:
    lines = [
        "MAPE of the year-end total (%) by months known, and interval coverage over all cases",
        f"{'model':16}"
        + "".join(f"{'m=' + str(m):>7}" for m in SHOWN_M)
        + f"{'bias':>7}{'cov80':>7}{'cov95':>7}{'W95':>7}",
    ]
    for name in _order(report):
        row = f"{name:16}"
        for m in SHOWN_M:
            mape = report.mape(name, m)
            row += f"{'-':>7}" if math.isnan(mape) else f"{mape:7.2f}"
        total = report.score(name, "all")
        assert total is not None  # every model in the scores has its "all" row
        cov = total.coverage
        row += f"{total.bias:7.2f}"
        row += "".join(f"{'' if cov[lv] is None else f'{cov[lv]:.0%}':>7}" for lv in LEVELS)
        row += f"{'' if total.winkler95 is None else f'{total.winkler95:.1f}':>7}"
        lines.append(row)
    lines.append("")
    lines.append("coverage by months-known group (80% / 95%)")
    for name in _order(report):
        parts = []
        for grp in ("0-2", "3-5", "6-8", "9-11"):
            s = report.score(name, grp)
            if s is None:
                continue
            if s.coverage[80.0] is None:
                break
            parts.append(f"{grp}: {s.coverage[80.0]:.0%}/{s.coverage[95.0]:.0%}")
        if parts:
            lines.append(f"  {name:16}" + "  ".join(parts))
    if report.skipped:
        lines.append("")
        lines.extend(f"left out: {line}" for line in report.left_out())
    fits = ", ".join(f"{k} {v:.0f}s" for k, v in report.fit_seconds.items())
    lines.append("")
    lines.append(f"run time {report.seconds:.0f}s; fitting time summed over processes: {fits}")
    return "\n".join(lines)


def plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = list(range(12))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    for name in _order(report):
        mape = [report.mape(name, m) for m in months]
        style = {"lw": 2.5, "color": "black"} if name == "auto" else {"lw": 1.2}
        if name in ("run_rate", "ytd_growth", "seasonal_naive"):
            style["ls"] = "--"
        ax1.plot(months, mape, label=name, **style)
        scores = {s.months: s for s in report.scores if s.model == name}
        groups = [g for g in ("0-2", "3-5", "6-8", "9-11") if g in scores]
        if groups and scores[groups[0]].coverage[80.0] is not None:
            ax2.plot(
                groups,
                [100 * scores[g].coverage[80.0] for g in groups],
                marker="o",
                label=f"{name} 80%",
                **style,
            )
    ax1.set(
        xlabel="months of the year published (m)",
        ylabel="MAPE of year-end total (%)",
        title="Error by months known",
        yscale="log",
    )
    ax1.legend(fontsize=8)
    ax2.axhspan(75, 85, color="green", alpha=0.1)
    ax2.axhline(80, color="green", lw=0.8)
    ax2.set(
        xlabel="months known", ylabel="coverage (%)", title="80% interval coverage", ylim=(0, 105)
    )
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
