"""Plain-text tables for the terminal."""

from __future__ import annotations

from exportcast.models.results import Forecast, level_key


def _billions(value: float, unit: str) -> str:
    if unit == "USD millions":
        return f"${value / 1000:,.1f}B"
    return f"{value:,.0f}"


def forecast_table(f: Forecast) -> str:
    lines = [
        f"{f.series} ({f.unit}), data through {f.data_through}",
        f"model: {f.model} [{', '.join(f.members)}] - {f.description}",
        "",
    ]
    head = f"{'year':>6} {'known':>5} {'to date':>10} {'median':>10}"
    for level in f.levels:
        head += f" {level_key(level) + '% interval':>23}"
    targets = list(f.years[0].prob_at_least) if f.years else []
    for t in targets:
        head += f" {'P>=' + _billions(t, f.unit):>11}"
    lines.append(head)
    for y in f.years:
        row = f"{y.year:>6} {y.months_observed:>5} {_billions(y.actual_to_date, f.unit):>10}"
        row += f" {_billions(y.median, f.unit):>10}"
        for level in f.levels:
            lo, hi = y.intervals[level]
            row += f" {_billions(lo, f.unit) + ' - ' + _billions(hi, f.unit):>23}"
        for t in targets:
            row += f" {y.prob_at_least[t]:>11.1%}"
        lines.append(row)
    expected = f.expected_error or {}
    if expected.get("n") and expected.get("coverage", {}).get("80") is not None:
        lines.append("")
        lines.append(
            f"backtest of auto with {expected['m']} months known ({expected['n']} years, "
            f"{expected['years'][0]}-{expected['years'][1]}): year-end error "
            f"{expected['mape_pct']:.1f}% on average; 80% intervals covered "
            f"{expected['coverage']['80']:.0%}"
        )
    for t in f.targets:
        first = t.first_year_p50 if t.first_year_p50 is not None else "not within the horizon"
        lines.append("")
        lines.append(f"target {_billions(t.amount, f.unit)}: first year with P >= 50%: {first}")
        spread = ", ".join(f"{k}: {p:.1%}" for k, p in t.crossing_year.items() if p > 0)
        lines.append(f"  first year reached, over paths: {spread}")
    return "\n".join(lines)
