"""Input an outside tester found accepted (and stored) or answered with a 500: each class is
refused with a 4xx in the one error shape, naming what is wrong, and nothing is stored.

One test per class of input, each over several examples (or a hypothesis property), first
against the shared row validation (`models/validate.py`, which the CLI uses too), then
through the HTTP API.
"""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exportcast.models.series import parse_month
from exportcast.models.validate import (
    MAX_VALUE,
    SeriesError,
    check_rows,
    check_value,
    read_csv_rows,
)
from exportcast.service.main import create_app
from tests.service_helpers import AUTH, settings_for

OBSERVATIONS = "/v1/series/kr-exports/observations"
JSON = {**AUTH, "Content-Type": "application/json"}
CSV = {**AUTH, "Content-Type": "text/csv"}


def problems(rows) -> list[str]:
    with pytest.raises(SeriesError) as info:
        check_rows(rows)
    return [str(p) for p in info.value.problems]


def csv_problems(text: str) -> list[str]:
    with pytest.raises(SeriesError) as info:
        check_rows(read_csv_rows(text))
    return [str(p) for p in info.value.problems]


# Digits of other scripts that str.isdigit(), `\d` and float() all take.
OTHER_DIGITS = {
    "full-width": "０１２３４５６７８９",
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "extended arabic-indic": "۰۱۲۳۴۵۶۷۸۹",
    "devanagari": "०१२३४५६७८९",
    "bengali": "০১২৩৪৫৬৭৮৯",
    "mathematical bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
}


def in_script(text: str, digits: str) -> str:
    return text.translate(str.maketrans("0123456789", digits))


# --------------------------------------------------------------------------------------------
# The shared row validation


@pytest.mark.parametrize(
    "value",
    [1e308, 1.7976931348623157e308, 1e19, MAX_VALUE * (1 + 1e-15), 10**20, 10**400, "1e300"],
)
def test_a_value_above_the_ceiling_is_refused_with_its_row(value):
    (problem,) = problems([("observations[1]", "2026-10", value)])
    assert problem.startswith("observations[1]:") and f"above {MAX_VALUE:g}" in problem


@given(st.floats(min_value=MAX_VALUE, exclude_min=True) | st.sampled_from([math.inf, -math.inf]))
def test_any_float_above_the_ceiling_or_infinite_is_refused(value):
    with pytest.raises(ValueError, match=r"above|finite|> 0"):
        check_value(value)


@given(st.floats(min_value=0, max_value=MAX_VALUE, exclude_min=True))
def test_any_float_in_range_is_taken_as_given_also_as_text(value):
    assert check_value(value) == value
    assert check_value(repr(value)) == value


def test_the_bound_refuses_the_whole_csv_naming_the_line():
    text = "month,value\n2026-09,80000\n2026-10,1e308\n2026-11,1e19\n"
    assert [p.split(":")[0] for p in csv_problems(text)] == ["line 3", "line 4"]


@pytest.mark.parametrize("script", sorted(OTHER_DIGITS))
@pytest.mark.parametrize("month", ["2026-10", "1999-12", "2000-01"])
def test_a_month_in_other_digits_is_refused(script, month):
    text = in_script(month, OTHER_DIGITS[script])
    (problem,) = problems([(2, text, 5.0)])
    assert problem.startswith("line 2:") and "not YYYY-MM" in problem
    with pytest.raises(ValueError, match="not YYYY-MM"):
        parse_month(text)


@given(st.text(alphabet=st.characters(categories=["Nd"]), min_size=6, max_size=6))
def test_a_month_is_only_ascii_digits(digits):
    text = f"{digits[:4]}-{digits[4:]}"
    if not digits.isascii():
        with pytest.raises(ValueError, match="not YYYY-MM"):
            parse_month(text)


@pytest.mark.parametrize(
    "text",
    [
        "9_3_000",
        "1_000.5",
        "1e1_0",
        "９３０００",
        "٩٣٠٠٠",
        "9३000",
        "𝟗𝟑𝟎𝟎𝟎",
        "93,000",
        "0x10",
        "93000\u00a0",
        "",
        "\ud800",
    ],
)
def test_a_value_as_text_must_be_plain_ascii_decimal(text):
    (problem,) = problems([(3, "2026-10", text)])
    assert problem.startswith("line 3:") and "not a number" in problem


@given(
    st.text(
        alphabet=st.characters(categories=["Nd"]) | st.sampled_from("_.eE+-"),
        min_size=1,
        max_size=12,
    )
)
def test_no_text_float_takes_is_taken_unless_it_is_plain_ascii(text):
    try:
        float(text)
    except ValueError:
        return
    if text.isascii() and "_" not in text:
        return
    with pytest.raises(ValueError, match="not a number"):
        check_value(text)


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffmonth,value\n2026-09,80000\n",
        "\ufeffMonth,Value\r\n2026-09,80000\r\n",
        "\ufeffmonth,exports_usd_millions,source\n2026-09,80000,x\n",
    ],
)
def test_a_csv_with_a_byte_order_mark_is_read(text):
    (row,) = check_rows(read_csv_rows(text))
    assert row.value == 80000.0


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("month,value\n2026-09,80000\n2026-10," + "9" * 200_000 + "\n", 3),
        ('month,value\n2026-10,"' + "1" * 200_000 + '"\n', 2),
        ("month,value\n" + "x" * 200_000 + ",1\n", 2),
        ("month,value,note\n2026-10,1," + "n" * 140_000 + "\n", 2),
    ],
)
def test_a_very_long_csv_field_is_refused_naming_the_line(text, line):
    (problem,) = csv_problems(text)
    assert problem.startswith(f"line {line}:")
    assert len(problem) < 300  # the field is not echoed whole


def test_a_very_long_line_of_many_fields_is_refused_not_crashed():
    text = "month,value\n2026-10,abc" + "," * 500_000 + "\n"
    (problem,) = csv_problems(text)
    assert problem.startswith("line 2:") and "not a number" in problem


@pytest.mark.parametrize(
    ("month", "value"),
    [("\ud800", 1.0), ("2026-0\udc00", 1.0), ("2026-10", "9\ud800"), ("\udfff" * 1000, "x")],
)
def test_lone_surrogates_are_refused_and_the_message_can_be_sent(month, value):
    for problem in problems([("observations[0]", month, value)]):
        problem.encode("utf-8")  # no UnicodeEncodeError
        assert len(problem) < 400


# --------------------------------------------------------------------------------------------
# Through the HTTP API: one app for the module on a store holding the bundled series. Its
# first retrain is left queued (run_jobs=False): every check here is answered before any model
# work, so the tests need not wait for training. Every write below is refused (or changes
# nothing), and each checks the series' observations before and after.


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data = tmp_path_factory.mktemp("bad-input") / "data"
    with TestClient(create_app(settings_for(data), run_jobs=False)) as c:
        assert c.get("/v1/series/kr-exports").json()["n_observations"] > 300
        yield c


def stored(client) -> list[dict]:
    r = client.get(OBSERVATIONS)
    assert r.status_code == 200
    return r.json()["observations"]


def refused(client, response, status: int = 422) -> dict:
    """The response is a 4xx in the one error shape; returns its body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"detail", "errors"} and isinstance(body["detail"], str)
    return body


def post_json(client, text: str | bytes):
    before = stored(client)
    response = client.post(OBSERVATIONS, content=text, headers=JSON)
    assert stored(client) == before
    return response


def post_csv(client, text: str | bytes):
    before = stored(client)
    response = client.post(OBSERVATIONS, content=text, headers=CSV)
    assert stored(client) == before
    return response


def batch(*items: str) -> str:
    """A JSON body written by hand, so it can carry what json.dumps would not write."""
    return '{"observations": [' + ", ".join(items) + "]}"


@pytest.mark.parametrize(
    "value", ["1e308", "1.7976931348623157e308", "1e19", "100000000000000000000", "1" + "0" * 400]
)
def test_api_refuses_a_value_above_the_ceiling(client, value):
    body = refused(
        client,
        post_json(
            client,
            batch(
                '{"month": "2026-10", "value": 80000}', f'{{"month": "2026-11", "value": {value}}}'
            ),
        ),
    )
    (problem,) = body["errors"]
    assert problem["where"] == "observations[1]" and "above 1e+18" in problem["message"]
    body = refused(client, post_csv(client, f"month,value\n2026-10,80000\n2026-11,{value}\n"))
    assert [(p["line"], "above" in p["message"]) for p in body["errors"]] == [(3, True)]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", "0", "-5"])
def test_api_refuses_values_that_are_not_finite_and_positive(client, value):
    body = refused(client, post_json(client, batch(f'{{"month": "2026-10", "value": {value}}}')))
    assert body["errors"][0]["where"] == "observations[0]"


@pytest.mark.parametrize(
    "targets",
    [
        "[NaN]",
        "[Infinity]",
        "[-Infinity]",
        "[1e999]",
        "[0]",
        "[-1]",
        "[700000, -700000]",
        "[" + ", ".join(str(i + 1) for i in range(11)) + "]",
        '["9_3_000"]',
        '["١٠٠"]',
        "[1" + "0" * 400 + "]",
        '["nan"]',
        "[true]",
        "[[1]]",
    ],
)
def test_api_refuses_series_targets_a_query_would_refuse(client, targets):
    before = client.get("/v1/series").json()
    response = client.post(
        "/v1/series",
        content=f'{{"id": "bad-targets", "name": "Bad", "unit": "u", "targets": {targets}}}',
        headers=JSON,
    )
    body = refused(client, response)
    assert [p["where"].split(".")[:2] for p in body["errors"]] == [["body", "targets"]]
    assert client.get("/v1/series").json() == before


@given(
    st.lists(
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not v > 0),
        min_size=1,
        max_size=3,
    )
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_api_creation_applies_the_query_rule_to_any_target(client, targets):
    text = json.dumps({"id": "bad-targets", "name": "Bad", "unit": "u", "targets": targets})
    body = refused(client, client.post("/v1/series", content=text, headers=JSON))
    assert "targets" in body["detail"]
    assert client.get("/v1/series/bad-targets").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("name", '"' + "n" * 201 + '"', "at most 200"),
        ("unit", '"' + "u" * 51 + '"', "at most 50"),
        ("name", '""', "at least 1"),
        ("name", '"\\ud800"', "unicode"),
        ("unit", '"USD \\udfff"', "unicode"),
        ("name", '"a\\u0000b"', "control"),
        ("unit", '"u\\n"', "control"),
        ("owner", '"me"', "Extra inputs"),
    ],
)
def test_api_refuses_series_text_it_could_not_store(client, field, value, words):
    fields = {"id": '"bad-text"', "name": '"Bad"', "unit": '"u"'} | {field: value}
    text = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
    body = refused(client, client.post("/v1/series", content=text, headers=JSON))
    (problem,) = body["errors"]
    assert problem["where"] == f"body.{field}" and words.lower() in problem["message"].lower()
    assert client.get("/v1/series/bad-text").status_code == 404


def test_api_series_targets_follow_the_query_rule_when_good(client):
    r = client.post(
        "/v1/series",
        json={"id": "good-targets", "name": "Good", "unit": "u", "targets": [9e5, "7e5", 9e5]},
        headers=AUTH,
    )
    assert r.status_code == 201 and r.json()["targets"] == [700000.0, 900000.0]


@pytest.mark.parametrize("script", sorted(OTHER_DIGITS))
def test_api_refuses_months_and_values_in_other_digits(client, script):
    month, value = (
        in_script("2026-10", OTHER_DIGITS[script]),
        in_script("93000", OTHER_DIGITS[script]),
    )
    body = refused(
        client,
        post_json(
            client,
            batch(
                json.dumps({"month": month, "value": 93000}),
                json.dumps({"month": "2026-11", "value": value}),
                json.dumps({"month": "2026-12", "value": "9_3_000"}),
            ),
        ),
    )
    assert [p["where"] for p in body["errors"]] == [f"observations[{i}]" for i in range(3)]
    assert "not YYYY-MM" in body["errors"][0]["message"]
    assert all("not a number" in p["message"] for p in body["errors"][1:])
    csv_text = f"month,value\n{month},93000\n2026-11,{value}\n2026-12,9_3_000\n"
    body = refused(client, post_csv(client, csv_text))
    assert [p["line"] for p in body["errors"]] == [2, 3, 4]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/jobs/" + "9" * 30,
        f"/v1/jobs/{2**53 + 1}",
        f"/v1/jobs/{2**63}",
        "/v1/jobs/0",
        "/v1/jobs/-1",
    ],
)
def test_api_refuses_job_ids_out_of_range(client, path):
    body = refused(client, client.get(path))
    assert body["errors"][0]["where"] == "path.job_id"


@pytest.mark.parametrize("version", ["9" * 30, str(2**53 + 1), str(2**63), "0", "-3"])
def test_api_refuses_versions_out_of_range(client, version):
    before = client.get("/v1/series/kr-exports/models").json()
    path = f"/v1/series/kr-exports/models/{version}/activate"
    body = refused(client, client.post(path, headers=AUTH))
    assert body["errors"][0]["where"] == "path.version"
    assert client.get("/v1/series/kr-exports/models").json() == before


def test_api_in_range_ids_that_do_not_exist_are_404(client):
    assert client.get(f"/v1/jobs/{2**53}").status_code == 404
    path = f"/v1/series/kr-exports/models/{2**53}/activate"
    assert client.post(path, headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"observations": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
        (batch('{"month": ' + "[" * 300 + "]" * 300 + ', "value": 1}'), "YYYY-MM"),
        (
            batch('{"month": "2026-10", "value": ' + '{"a": ' * 300 + "1" + "}" * 300 + "}"),
            "number",
        ),
        (batch('{"month": "2026-10", "value": 1' + "0" * 5000 + "}"), "not valid JSON"),
    ],
)
def test_api_refuses_deeply_nested_or_huge_json(client, text, words):
    body = refused(client, post_json(client, text))
    assert words in json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize("nesting", ["[" * 100_000, '{"id": ' + "[" * 100_000])
def test_api_refuses_deeply_nested_series_bodies(client, nesting):
    before = client.get("/v1/series").json()
    response = client.post("/v1/series", content=nesting, headers=JSON)
    assert 400 <= response.status_code < 500
    assert isinstance(response.json()["detail"], str)
    assert client.get("/v1/series").json() == before


@pytest.mark.parametrize(
    "item",
    [
        '{"month": "\\ud800", "value": 1}',
        '{"month": "2026-0\\udc00", "value": 1}',
        '{"month": "2026-10", "value": "\\ud800"}',
        '{"month": "2026-10", "value": "9\\udfff"}',
        '{"month": "' + "\\ud800" * 10_000 + '", "value": 1}',
    ],
)
def test_api_refuses_lone_surrogates_in_rows(client, item):
    response = post_json(client, batch('{"month": "2026-10", "value": 80000}', item))
    body = refused(client, response)
    (problem,) = body["errors"]
    assert problem["where"] == "observations[1]" and "\\ud" in problem["message"]
    assert len(response.content) < 2000


@pytest.mark.parametrize(
    "text",
    [
        "month,value\n2026-10," + "9" * 200_000 + "\n",
        'month,value\n2026-10,"' + "9" * 200_000 + '"\n',
        "month,value\n" + "2" * 150_000 + ",1\n",
        "month,value\n2026-10,1," + "," * 1_000_000 + "x" * 200_000 + "\n",
    ],
)
def test_api_refuses_very_long_csv_fields_and_lines(client, text):
    response = post_csv(client, text)
    body = refused(client, response)
    assert body["errors"][0]["line"] == 2 and len(response.content) < 2000


def test_api_reads_a_csv_with_a_byte_order_mark(client):
    may = next(o for o in stored(client) if o["month"] == "2026-09")
    for encoding, eol in (("utf-8-sig", "\n"), ("utf-8-sig", "\r\n")):
        text = f"month,value{eol}2026-09,{may['value']!r}{eol}".encode(encoding)
        r = post_csv(client, text)  # the same value again: nothing changes
        assert r.status_code == 202, r.text
        assert r.json()["unchanged_months"] == ["2026-09"] and r.json()["job"] is None


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)  # with lone surrogates


@given(
    month=st.sampled_from(["2026-10", "2026-11"])
    | ANY_TEXT
    | st.integers()
    | st.none()
    | st.booleans(),
    value=ANY_TEXT
    | st.integers(min_value=2 * int(MAX_VALUE))  # + 1 would round to MAX_VALUE as a float
    | st.integers(max_value=0)
    | st.floats().filter(lambda v: not 0 < v <= MAX_VALUE),
)
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_api_never_answers_500_to_a_bad_row(client, month, value):
    try:
        parse_month(month)  # a month that could be real: only the value is bad then
        month_is_good = isinstance(month, str)
    except (ValueError, TypeError, AttributeError):
        month_is_good = False
    if month_is_good and isinstance(value, str):
        try:
            check_value(value)
            return  # a good row: not what this test is about
        except ValueError:
            pass
    text = batch(json.dumps({"month": month, "value": value}))
    body = refused(client, post_json(client, text))
    assert body["errors"][0]["where"] == "observations[0]"
