"""Any question a client may ask of a version is answered from what the version keeps
(sorted draws, first crossings, the paces' history, the monthly table), made once: the
bytes are the same whether those were made for this question or long before it, and the
months are the paths' own percentiles."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from exportcast.models.core import simulate
from exportcast.models.limits import MAX_HORIZON, MAX_LEVELS, MAX_TARGETS, MAX_YEARS
from exportcast.service import artifacts
from exportcast.service.serving.bodies import ForecastQuery, VersionStamp, serialise

STAMP = VersionStamp("kr-exports", 1, "2026-10-02T00:00:00.000000Z")


def version(kr):
    return artifacts.as_stored(
        simulate(kr, "ets", horizon=MAX_HORIZON, years=MAX_YEARS, n_paths=300)
    )


questions = st.builds(
    ForecastQuery,
    kind=st.just("annual"),
    years=st.integers(1, MAX_YEARS),
    levels=st.lists(st.integers(1, 99), min_size=1, max_size=MAX_LEVELS, unique=True).map(
        lambda xs: tuple(float(x) for x in sorted(xs))
    ),
    targets=st.lists(st.integers(1, 40), max_size=MAX_TARGETS, unique=True).map(
        lambda xs: tuple(x * 50_000.0 for x in xs)
    ),
)


def test_a_question_gets_the_same_bytes_from_a_fresh_version_and_a_busy_one(kr):
    busy = version(kr)
    fresh = lambda: replace(busy)  # noqa: E731 -- the same paths, nothing made yet

    @settings(max_examples=25, deadline=None)
    @given(before=st.lists(questions, max_size=4), question=questions)
    def check(before, question):
        for other in before:
            serialise(busy, STAMP, other)
        assert serialise(busy, STAMP, question) == serialise(fresh(), STAMP, question)

    check()


def test_the_months_are_the_paths_own_percentiles_as_served(kr):
    sim = version(kr)
    body = json.loads(
        serialise(sim, STAMP, ForecastQuery("annual", years=3, levels=(50.0, 90.0))).content
    )
    for h, month in enumerate(body["monthly"]):
        column = sim.paths[:, h]
        assert month["median"] == round(float(np.median(column)), 3)
        assert month["mean"] == round(float(np.mean(column)), 3)
        low, high = np.percentile(column, [5, 95])
        assert month["intervals"]["90"] == [round(float(low), 3), round(float(high), 3)]
