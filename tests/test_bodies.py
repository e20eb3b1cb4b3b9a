"""A forecast body's bytes are its response schema's dump, however it is written: the
months joined from text made once per level (`serving.month_text`) give the same bytes as
validating and dumping the whole body, for any question within the documented limits."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exportcast.models import limits
from exportcast.models.simulation import monthly_forecast, summarise
from exportcast.service.config import Settings
from exportcast.service.schemas import ForecastOut, MonthlyForecastOut
from exportcast.service.serving.active import ActiveForecasts
from exportcast.service.serving.bodies import ForecastQuery, moves_path, serialise
from exportcast.service.serving.month_text import filled
from exportcast.service.store.connect import open_store


@pytest.fixture(scope="module")
def served(trained_store):
    store = open_store(Settings(data_dir=trained_store).database())
    active = ActiveForecasts(store)
    active.sync()
    version = active.get("kr-exports")
    yield version, active.simulation(version)
    store.close()


def schema_dump(sim, stamp, query: ForecastQuery) -> bytes:
    """The body as the schema alone makes it: every month validated and dumped."""
    if query.model is not None:
        sim = sim.only(query.model)
    served = {"model_version": stamp.version, "generated_at": stamp.created_at}
    if query.kind == "annual":
        forecast = summarise(sim, query.years, query.levels, query.targets)
        moves = moves_path(stamp.series_id, stamp.version) if stamp.moves else None
        body = ForecastOut.model_validate({**forecast.to_dict(), **served, "moves": moves})
    else:
        monthly = monthly_forecast(sim, query.horizon, query.levels)
        body = MonthlyForecastOut.model_validate({**monthly.to_dict(), **served})
    return body.model_dump_json().encode()


level = st.one_of(
    st.integers(1, 99).map(float),
    st.integers(10, 999).map(lambda n: n / 10),
    st.floats(limits.MIN_LEVEL, limits.MAX_LEVEL),
)
amount = st.one_of(
    st.integers(1, 40).map(lambda n: n * 100_000.0),
    st.floats(1.0, 1e8),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["annual", "monthly"]),
    years=st.integers(1, limits.MAX_YEARS),
    horizon=st.integers(1, limits.MAX_HORIZON),
    levels=st.lists(level, min_size=1, max_size=limits.MAX_LEVELS),
    targets=st.lists(amount, max_size=limits.MAX_TARGETS),
    member=st.integers(-1, 3),
)
def test_bodies_are_the_schemas_dump_to_the_byte(
    served, kind, years, horizon, levels, targets, member
):
    version, sim = served
    model = None if member < 0 else version.members[member % len(version.members)]
    if kind == "annual":
        query = ForecastQuery(
            kind,
            model=model,
            years=years,
            levels=limits.check_levels(levels),
            targets=limits.check_targets(targets),
        )
    else:
        query = ForecastQuery(
            kind, model=model, levels=limits.check_levels(levels), horizon=horizon
        )
    assert serialise(sim, version.stamp, query).content == schema_dump(sim, version.stamp, query)


def test_the_defaults_made_at_activation_are_the_schemas_dump_too(served):
    version, sim = served
    for kind in ("annual", "monthly"):
        query = version.default_query(kind)
        assert version.default_bodies[kind].content == schema_dump(sim, version.stamp, query)


def test_a_body_without_one_empty_array_to_fill_is_refused():
    with pytest.raises(ValueError, match="single empty monthly"):
        filled(b'{"monthly":[1]}', {"monthly": b"[]"})
    with pytest.raises(ValueError, match="single empty monthly"):
        filled(b'{"monthly":[],"x":{"monthly":[]}}', {"monthly": b"[]"})
    assert filled(b'{"a":[],"monthly":[],"b":2}', {"monthly": b"[3]", "a": b"[1]"}) == (
        b'{"a":[1],"monthly":[3],"b":2}'
    )
