"""Dated releases: the bundled first releases and revisions of 2026 are stored as they
were published, so a read `as_of` a day gives what was known that day."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from exportcast.models.datasets import load_bundled, load_bundled_flashes, load_bundled_releases
from exportcast.models.releases import parse_releases_csv
from exportcast.service.main import bootstrap_bundled
from exportcast.service.store.connect import open_store

HEADER = "month,period,as_of,exports_usd_millions,source\n"


def test_releases_are_grouped_by_day_in_date_order():
    text = HEADER + (
        "2026-07,full,2026-08-01,98890,a\n"
        "2026-06,full,2026-07-01,102250,b\n"
        "2026-07,d1_10,2026-07-14,29839.1,c\n"
        "2026-06,full,2026-07-15,102165.5,d\n"
        "2026-06,d1_20,2026-07-14,61916.4,e\n"
    )
    releases = parse_releases_csv(text)
    assert [r.as_of.isoformat() for r in releases] == [
        "2026-07-01",
        "2026-07-14",
        "2026-07-15",
        "2026-08-01",
    ]
    assert [(f.month % 12 + 1, f.period) for f in releases[1].flashes] == [
        (6, "d1_20"),
        (7, "d1_10"),
    ]
    assert releases[2].observations[0].value == 102165.5


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ("2026-13,full,2026-07-01,1,x", "calendar month"),
        ("2026-06,d1_15,2026-07-01,1,x", "d1_15"),
        ("2026-06,full,2026-07-32,1,x", "line 2"),
        ("2026-06,full,2026-07-01,-5,x", "not positive"),
    ],
)
def test_a_bad_release_row_is_named(row, named):
    with pytest.raises(ValueError, match=named):
        parse_releases_csv(HEADER + row + "\n")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('releases')}/store.db")
    assert bootstrap_bundled(s, with_items=False)
    return s


def end_of(day) -> datetime:
    return datetime.combine(day, time(), UTC) + timedelta(hours=23)


def test_each_release_reads_back_as_of_its_day(store):
    releases = load_bundled_releases()
    assert releases, "the bundled series has its 2026 releases"
    for release in releases:
        known = {o.month: o.value for o in store.observations("kr-exports", end_of(release.as_of))}
        for o in release.observations:
            assert known[o.month] == o.value, (release.as_of, o.month)
        flashes = store.flashes("kr-exports", end_of(release.as_of))
        found = {(f.month, f.period): f.value for f in flashes}
        for f in release.flashes:
            assert found[(f.month, f.period)] == f.value
    # before the first release nothing was known; the months after it came one by one
    first = releases[0].as_of
    assert store.observations("kr-exports", end_of(first) - timedelta(days=1)) == []
    seen = [store.observations("kr-exports", end_of(r.as_of))[-1].month for r in releases]
    assert seen == sorted(seen) and seen[-1] == load_bundled().end


def test_the_latest_vintage_is_the_bundled_file_and_revisions_are_kept(store):
    series = load_bundled()
    current = store.observations("kr-exports")
    assert [o.month for o in current] == list(range(series.start, series.end + 1))
    assert [o.value for o in current] == pytest.approx(list(series.values), abs=1e-9)
    flashes = {(f.month, f.period): f.value for f in store.flashes("kr-exports")}
    assert flashes == {(f.month, f.period): f.value for f in load_bundled_flashes()}
    # June 2026: first release 102,250, then three customs vintages, each kept
    june = series.end - 3
    values = []
    for release in load_bundled_releases():
        if any(o.month == june for o in release.observations):
            rows = store.observations("kr-exports", end_of(release.as_of))
            values.append(next(o.value for o in rows if o.month == june))
    assert values[0] == 102250 and values[-1] == series.values[-4] and len(set(values)) == 4
