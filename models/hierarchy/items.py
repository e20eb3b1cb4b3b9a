"""Items' monthly series from one long CSV (`month,item,value`), as the customs service
publishes them; every bad row is named and nothing is used until all rows are good."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from exportcast.models.hierarchy.spec import Hierarchy, node_name, one_classification
from exportcast.models.series import MonthlySeries
from exportcast.models.validate import (
    VALUE_COLUMN,
    Problem,
    SeriesError,
    check_rows,
    read_csv_columns,
    series_from_observations,
)


def parse_items_csv(text: str, unit: str = "") -> dict[str, MonthlySeries]:
    """Item name (as in the file, e.g. "kcs10:ships") -> its series."""
    rows = read_csv_columns(text, [("month",), ("item",), VALUE_COLUMN])
    by_item: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    problems: list[Problem] = []
    for line, month, item, value in rows:
        if not item:
            problems.append(Problem("item is empty", line))
            continue
        by_item[item].append((line, month, value))
    out: dict[str, MonthlySeries] = {}
    for item, item_rows in by_item.items():
        try:
            observations = check_rows(item_rows)
            out[item] = series_from_observations(observations, item, unit, item)
        except SeriesError as exc:
            problems.extend(
                Problem(f"{item}: {p.message}", p.line, p.month, p.where) for p in exc.problems
            )
    if problems:
        raise SeriesError(problems)
    if not out:
        raise SeriesError([Problem("no items")])
    return out


def hierarchy_of(
    id: str, total_series: str, items: dict[str, MonthlySeries]
) -> tuple[Hierarchy, dict[str, MonthlySeries]]:
    """The hierarchy of a total over these items (all of one classification), and the
    items' series by node name (with ids "<total>.<node>")."""
    classification = one_classification(list(items))
    by_node = {
        node_name(k): replace(v, id=f"{total_series}.{node_name(k)}", name=k)
        for k, v in sorted(items.items())
    }
    if len(by_node) != len(items):
        raise ValueError("two items have the same name after their classification")
    return Hierarchy(id, total_series, classification, tuple(by_node)), by_node
