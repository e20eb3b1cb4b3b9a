"""Plain-text tables for the terminal."""

from __future__ import annotations

from exportcast.models.moves import Moves
from exportcast.models.results import Forecast, level_key


def _billions(value: float, unit: str) -> str:
    if unit == "USD millions":
        return f"${value / 1000:,.1f}B"
    return f"{value:,.0f}"


def flash_line(flash: dict, unit: str) -> str:
    """What the forecast did with the flash, in a line or three."""
    head = f"flash {flash['month']} {flash['period']}: {_billions(flash['value'], unit)}"
    if not flash["used"]:
        return f"{head}, not used: {flash['reason']}"

    def month(summary: dict) -> str:
        lo, hi = summary["intervals"]["80"]
        median = _billions(summary["median"], unit)
        return f"{median} (80% {_billions(lo, unit)} - {_billions(hi, unit)})"

    return (
        f"{head}, read with {flash['history_months']} past months\n"
        f"  {flash['month']} without it {month(flash['month_before'])}; the flash alone "
        f"{month(flash['implied'])}; served {month(flash['month_after'])}"
    )


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
        later = [y for y in f.years[1:] if (y.expected_error or {}).get("n")]
        if later:
            lines.append(
                "  later years, error / 80% coverage: "
                + ", ".join(
                    f"{y.year} {y.expected_error['mape_pct']:.1f}% / "
                    f"{y.expected_error['coverage']['80']:.0%}"
                    for y in later
                    if y.expected_error["coverage"]["80"] is not None
                )
            )
    if f.flash is not None:
        lines.append("")
        lines.append(flash_line(f.flash, f.unit))
    for t in f.targets:
        first = t.first_year_p50 if t.first_year_p50 is not None else "not within the horizon"
        lines.append("")
        lines.append(f"target {_billions(t.amount, f.unit)}: first year with P >= 50%: {first}")
        spread = ", ".join(f"{k}: {p:.1%}" for k, p in t.crossing_year.items() if p > 0)
        lines.append(f"  first year reached, over paths: {spread}")
        lines.extend(pace_lines(f, t.amount))
    return "\n".join(lines)


def trend(rate: float) -> str:
    if rate < 0:
        return f"the 12-month total may fall {-rate:.1%}"
    return f"the 12-month total growing {rate:.1%}"


def pace_lines(f: Forecast, amount: float) -> list[str]:
    """Per year, what the target needs of the months left and how often that happened."""
    out = []
    for y in f.years:
        p = (y.pace or {}).get(amount)
        if p is None:
            continue
        if p.reached:
            out.append(
                f"  {y.year}: reached with the published months; P {y.prob_at_least[amount]:.0%}"
            )
            continue
        same = (
            f", {p.growth_same_months:+.1%} on the same months a year earlier"
            if p.growth_same_months is not None
            else ""
        )
        history = (
            f"; done in {p.history_share:.0%} of {p.history_windows} past windows"
            if p.history_share is not None
            else ""
        )
        out.append(
            f"  {y.year}: needs {_billions(p.per_month, f.unit)} a month for "
            f"{12 - y.months_observed} months{same}; {trend(p.growth_per_year)} a year for "
            f"{p.months_left} months{history}; "
            f"P {y.prob_at_least[amount]:.0%}"
        )
    return out


def _signed(value: float, unit: str) -> str:
    text = _billions(abs(value), unit)
    return ("+" if value >= 0 else "-") + text


def moves_table(moves: Moves, unit: str, since: str) -> str:
    """Why the forecast moved from the version before: each step's change of every year's
    median (and of P(largest target) for the last year), adding up to the change."""
    years, last = moves.years, moves.years[-1]
    target = max(moves.targets) if moves.targets else None
    head = f"why it moved since {since}:"
    cols = f"{'':52}" + "".join(f"{y:>11}" for y in years)
    if target is not None:
        cols += f" {'P(' + str(last) + '>=' + _billions(target, unit) + ')':>20}"
    lines = [head, cols]

    def row(label: str, point, signed: bool) -> str:
        show = (lambda v: _signed(v, unit)) if signed else (lambda v: _billions(v, unit))
        text = f"{label[:52]:52}" + "".join(f"{show(point.median[y]):>11}" for y in years)
        if target is not None:
            p = point.prob[last][target]
            text += f" {(f'{p:+.1%}' if signed else f'{p:.1%}'):>20}"
        return text

    lines.append(row("before", moves.before, False))
    for step in moves.steps:
        lines.append(row("  " + step.label, step.contribution, True))
    lines.append(row("after", moves.after, False))
    return "\n".join(lines)
