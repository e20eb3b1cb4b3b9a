from __future__ import annotations

import pytest

from exportcast.models.datasets import load_bundled
from exportcast.models.series import format_month, parse_month
from exportcast.models.validate import SeriesError, missing_months, parse_csv


def test_bundled_series_is_the_official_record(kr):
    assert kr.id == "kr-exports"
    assert kr.unit == "USD millions"
    assert format_month(kr.start) == "2000-01"
    assert format_month(kr.end) == "2026-09"
    # Calendar-year sums against the official totals (2025: $709.3B, within 0.03%).
    months, total_2025 = kr.year_to_date(2025)
    assert months == 12
    assert total_2025 == pytest.approx(709_330, rel=3e-4)
    assert kr.year_to_date(2026)[0] == 9


def test_month_round_trip():
    for text in ("2000-01", "2026-12", "1999-07"):
        assert format_month(parse_month(text)) == text


def csv_of(*rows: str, header: str = "month,value") -> str:
    return "\n".join([header, *rows]) + "\n"


def problems_of(text: str) -> list[str]:
    with pytest.raises(SeriesError) as info:
        parse_csv(text)
    return [str(p) for p in info.value.problems]


def test_gap_is_an_error_naming_the_missing_months():
    (problem,) = problems_of(csv_of("2020-01,1", "2020-02,2", "2020-05,3"))
    assert "2020-03" in problem and "2020-04" in problem


def test_duplicate_month_names_both_lines():
    (problem,) = problems_of(csv_of("2020-01,1", "2020-02,2", "2020-02,3"))
    assert problem.startswith("line 4:") and "2020-02" in problem and "line 3" in problem


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("2020-02,abc", "not a number"),
        ("2020-02,-5", "must be > 0"),
        ("2020-02,0", "must be > 0"),
        ("2020-02,nan", "not finite"),
        ("2020-02,inf", "not finite"),
        ("2020-13,5", "not a calendar month"),
        ("2020/02,5", "not YYYY-MM"),
        ("Feb 2020,5", "not YYYY-MM"),
        ("２０２０-０２,5", "not YYYY-MM"),
        ("2020-02,9_3_000", "not a number"),
        ("2020-02,٩٣٠٠٠", "not a number"),
        ("2020-02,1e308", "above 1e+18"),
    ],
)
def test_bad_row_is_named_by_line(row, words):
    (problem,) = problems_of(csv_of("2020-01,1", row, "2020-03,3"))
    assert problem.startswith("line 3:")
    assert words in problem


def test_every_bad_row_is_reported_not_just_the_first():
    found = problems_of(csv_of("2020-01,x", "2020-02,2", "bad,3", "2020-04,-1"))
    assert [p.split(":")[0] for p in found] == ["line 2", "line 4", "line 5"]


def test_bundled_header_and_plain_header_are_both_read():
    plain = parse_csv(csv_of("2020-01,1.5", "2020-02,2.5"))
    bundled = parse_csv(
        csv_of("2020-01,1.5,src", "2020-02,2.5,src", header="month,exports_usd_millions,source")
    )
    assert list(plain.values) == list(bundled.values) == [1.5, 2.5]


def test_rows_out_of_order_are_sorted():
    s = parse_csv(csv_of("2020-02,2", "2020-01,1"))
    assert s.months == ["2020-01", "2020-02"] and list(s.values) == [1, 2]


def test_header_without_value_column_is_refused():
    (problem,) = problems_of("month,amount\n2020-01,1\n")
    assert "value" in problem


def test_missing_months_lists_interior_gaps_only():
    assert missing_months([5, 1, 2, 8]) == [3, 4, 6, 7]
    assert missing_months([3]) == []


def test_unknown_bundled_series():
    with pytest.raises(KeyError, match="kr-exports"):
        load_bundled("nope")


def test_through_cuts_without_look_ahead(kr):
    cut = kr.through(parse_month("2025-12"))
    assert format_month(cut.end) == "2025-12"
    assert len(cut.values) == len(kr.values) - 9
