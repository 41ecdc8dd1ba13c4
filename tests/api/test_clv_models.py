"""Stored CLV models (docs/domain §6, issue 6) through the HTTP API: purchases simulated from known
BG/NBD and Gamma-Gamma parameters, imported, summarised in SQL (same-day purchases are one,
weeks of 7 days) and fitted — the fit equals the pure fit of the same customers summarised
independently here, and lands near the truth; members' values and quadrants; refusals."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from app.domain import clv
from tests.factories.imports import CSV, HEADER, post_import
from tests.factories.points import key_with
from tests.factories.problems import assert_problem

ISOLATION_COVERS = {
    ("POST", "/v1/analytics/clv/models"),
    ("GET", "/v1/analytics/clv/models"),
    ("GET", "/v1/analytics/clv/models/{model_id}"),
    ("GET", "/v1/analytics/clv/models/{model_id}/members"),
}

MODELS = "/v1/analytics/clv/models"
END = date(2026, 6, 30)
TRUE_BG = (0.5, 4.0, 0.8, 2.5)  # r, α (weeks), a, b
TRUE_GG = (6.0, 4.0, 15.0)  # p, q, γ


def simulate(n: int, seed: int):
    """Customers' purchase days and amounts: first purchase 200-500 days before END, then a
    Poisson process (rate λ ~ Gamma(r, α) per week) with dropout p ~ Beta(a, b) after each
    repeat purchase; each purchase worth Gamma(p, ν), ν ~ Gamma(q, γ)."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = TRUE_BG
    p, q, v = TRUE_GG
    rows = []
    for i in range(n):
        first = END - timedelta(days=int(rng.integers(200, 501)))
        age_weeks = (END - first).days / 7
        lam, drop, nu = rng.gamma(r, 1 / alpha), rng.beta(a, b), rng.gamma(q, 1 / v)
        times, t = [0.0], 0.0
        while True:
            t += rng.exponential(1 / lam)
            if t > age_weeks:
                break
            times.append(t)
            if rng.random() < drop:
                break
        for k, t in enumerate(times):
            day = first + timedelta(days=min(int(t * 7), (END - first).days))
            amount = max(round(float(rng.gamma(p, 1 / nu)), 2), 0.01)
            rows.append((f"S{i:05d}", day, amount, f"R{i}-{k}"))
    return rows


def summary(rows):
    """The BG/NBD summary of the rows in weeks, computed here without SQL."""
    days: dict[str, dict[date, Decimal]] = {}
    for ref, day, amount, _ in rows:
        days.setdefault(ref, {}).setdefault(day, Decimal(0))
        days[ref][day] += Decimal(str(amount))
    out = {}
    for ref, spend in sorted(days.items()):
        ordered = sorted(spend)
        x = len(ordered) - 1
        repeat = [spend[d] for d in ordered[1:]]
        out[ref] = (
            x,
            (ordered[-1] - ordered[0]).days / 7,
            (END - ordered[0]).days / 7,
            float(sum(repeat) / x) if x else 0.0,
            float(sum(spend.values())),
        )
    return out


@pytest.fixture
async def simulated(client, tenant):
    rows = simulate(2000, seed=6)
    body = HEADER + "".join(
        f"{ref},{day.isoformat()},{amt:.2f},{rec},S01\n" for ref, day, amt, rec in rows
    )
    await post_import(client, tenant.headers, body)
    return summary(rows)


async def test_fit_equals_the_pure_fit_and_recovers_the_truth(client, tenant, simulated):
    r = await client.post(
        MODELS,
        json={"time_unit": "week", "calibration_end": END.isoformat(), "horizon_periods": 52},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    model = r.json()
    x, rec, age, mon, total = (np.array([s[i] for s in simulated.values()]) for i in range(5))
    bg = clv.fit_bgnbd(x, rec, age)
    gg = clv.fit_gamma_gamma(x, mon)
    assert model["customers"] == len(simulated) == 2000
    for name in ("r", "alpha", "a", "b"):
        assert model["bgnbd"][name] == pytest.approx(getattr(bg, name), rel=1e-9)
    for name in ("p", "q", "v"):
        assert model["gamma_gamma"][name] == pytest.approx(getattr(gg, name), rel=1e-9)
    assert model["log_likelihood"] == pytest.approx(bg.log_likelihood, rel=1e-9)
    assert model["bgnbd"]["converged"] and model["gamma_gamma"]["converged"]
    assert model["bgnbd"]["message"] and model["bgnbd"]["iterations"] > 0
    # Near the parameters the purchases were drawn from (same-day merging aside).
    assert model["bgnbd"]["r"] == pytest.approx(TRUE_BG[0], rel=0.3)
    assert model["bgnbd"]["alpha"] == pytest.approx(TRUE_BG[1], rel=0.35)
    assert model["gamma_gamma"]["p"] == pytest.approx(TRUE_GG[0], rel=0.35)
    assert (model["time_unit"], model["horizon_periods"], model["annual_discount_rate"]) == (
        "week",
        52,
        "0.100000",  # stored to 6 decimals, given with all 6
    )
    got = await client.get(f"{MODELS}/{model['id']}", headers=tenant.headers)
    assert got.status_code == 200 and got.json() == model

    # Every member, paged: the summary, and the model's values from the pure functions.
    members, cursor = [], None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(
                f"{MODELS}/{model['id']}/members", params=params, headers=tenant.headers
            )
        ).json()
        members += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(members) == 2000
    by_ref = {m["member_ref"]: m for m in members}
    values = clv.member_values(
        bg, gg, x, rec, age, mon, total, 52, clv.period_discount_rate(0.10, "week")
    )
    for i, ref in enumerate(simulated):
        m = by_ref[ref]
        assert (m["frequency"], m["recency"], m["T"]) == (
            simulated[ref][0],
            pytest.approx(rec[i]),
            pytest.approx(age[i]),
        )
        assert m["p_alive"] == pytest.approx(values.p_alive[i], rel=1e-9)
        assert m["expected_purchases"] == pytest.approx(values.expected_purchases[i], rel=1e-9)
        assert Decimal(m["clv"]) == Decimal(m["breakdown"]["current"])
        assert abs(Decimal(m["clv"]) - Decimal(str(values.current[i]))) <= Decimal("0.005")
        assert Decimal(m["breakdown"]["historical"]) == Decimal(str(total[i])).quantize(
            Decimal("0.01")
        )
        parts = sum(Decimal(m["breakdown"][k]) for k in ("historical", "current", "potential"))
        assert abs(parts - Decimal(m["breakdown"]["total"])) <= Decimal("0.02")
    # The value quadrant splits current × potential at their medians by default.
    cuts = model["value_thresholds"]
    assert Decimal(cuts["current"]) == Decimal(
        str(round(float(np.quantile(values.current, 0.5)), 2))
    )
    for m in members:
        high_c = float(m["breakdown"]["current"]) > float(cuts["current"]) + 0.005
        low_c = float(m["breakdown"]["current"]) < float(cuts["current"]) - 0.005
        if high_c:
            assert m["quadrant"] in ("vip", "maintain")
        if low_c:
            assert m["quadrant"] in ("improve", "abandon")
    vips = (
        await client.get(
            f"{MODELS}/{model['id']}/members",
            params={"quadrant": "vip", "limit": 500},
            headers=tenant.headers,
        )
    ).json()
    assert vips["items"] and all(m["quadrant"] == "vip" for m in vips["items"])


async def test_same_day_purchases_are_one_and_months(client, tenant, simulated):
    """C0 buys three times on one day (tenant time zone) and once 61 days later."""
    body = HEADER + (
        "C0,2026-01-01T09:00:00+08:00,10,A,S01\n"
        "C0,2026-01-01T20:00:00+08:00,20,B,S01\n"
        "C0,2026-01-01T23:59:00+08:00,30,C,S01\n"
        "C0,2026-03-03,40,D,S01\n"
    )
    await post_import(client, tenant.headers, body)
    r = await client.post(
        MODELS,
        json={
            "time_unit": "month",
            "calibration_end": "2026-06-30",
            "gross_margin": "0.25",
            "value_thresholds": {"current": "10", "potential": "1"},
        },
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    model = r.json()
    assert model["customers"] == 2001 and model["gross_margin"] == "0.2500"
    assert (model["value_thresholds"]["current"], model["value_thresholds"]["potential"]) == (
        "10.00",
        "1.00",
    )
    members, cursor = [], None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        url = f"{MODELS}/{model['id']}/members"
        page = (await client.get(url, params=params, headers=tenant.headers)).json()
        members += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    c0 = next(m for m in members if m["member_ref"] == "C0")
    month = 365.25 / 12
    assert c0["frequency"] == 1 and c0["monetary_value"] == "40.00"
    assert c0["recency"] == pytest.approx(61 / month) and c0["T"] == pytest.approx(180 / month)
    assert c0["breakdown"]["historical"] == "25.00"  # 100 of spend × a 25 % margin
    for m in members:  # fixed cuts: the quadrant follows the amounts
        high_c = Decimal(m["breakdown"]["current"]) > Decimal("10")
        high_p = Decimal(m["breakdown"]["potential"]) > Decimal("1")
        expected = {(True, True): "vip", (True, False): "maintain"}.get(
            (high_c, high_p), "improve" if high_p else "abandon"
        )
        rounding = abs(Decimal(m["breakdown"]["current"]) - 10) <= Decimal("0.01") or abs(
            Decimal(m["breakdown"]["potential"]) - 1
        ) <= Decimal("0.01")
        assert m["quadrant"] == expected or rounding


async def test_too_little_data_is_refused(client, tenant):
    await post_import(
        client, tenant.headers, HEADER + "A,2026-01-01,10,1,S01\nA,2026-02-01,10,2,S01\n"
    )
    r = await client.post(
        MODELS, json={"time_unit": "week", "calibration_end": "2026-06-30"}, headers=tenant.headers
    )
    body = assert_problem(r, 422, "insufficient_data")
    assert "BG/NBD needs at least 10 customers" in body["detail"]
    r = await client.post(
        MODELS, json={"time_unit": "week", "calibration_end": "2026-06-30"}, headers=tenant.headers
    )
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"time_unit": "year", "calibration_end": "2026-06-30"}, "validation_error", "time_unit"),
        (
            {"time_unit": "week", "calibration_end": "2099-06-30"},
            "invalid_as_of",
            "calibration_end",
        ),
        (
            {"time_unit": "week", "calibration_end": "2026-06-30", "annual_discount_rate": "11"},
            "invalid_discount_rate",
            "annual_discount_rate",
        ),
        (
            {"time_unit": "week", "calibration_end": "2026-06-30", "horizon_periods": 0},
            "invalid_clv_input",
            "horizon_periods",
        ),
        (
            {"time_unit": "week", "calibration_end": "2026-06-30", "gross_margin": "1.5"},
            "invalid_clv_input",
            "gross_margin",
        ),
        (
            {
                "time_unit": "week",
                "calibration_end": "2026-06-30",
                "value_thresholds": {"quantile": "1"},
            },
            "invalid_value_thresholds",
            "value_thresholds.quantile",
        ),
        ({"time_unit": "week"}, "validation_error", "calibration_end"),
    ],
)
async def test_bad_requests(client, tenant, body, code, field):
    problem = assert_problem(
        await client.post(MODELS, json=body, headers=tenant.headers), 422, code
    )
    assert problem["errors"][0]["field"] == field


async def test_unknown_models_scopes_and_isolation(client, tenant, other_tenant, simulated):
    r = await client.post(
        MODELS,
        json={"time_unit": "week", "calibration_end": END.isoformat()},
        headers=tenant.headers,
    )
    model = r.json()["id"]
    thief = other_tenant.headers
    assert_problem(await client.get(f"{MODELS}/{model}", headers=thief), 404, "clv_model_not_found")
    assert_problem(
        await client.get(f"{MODELS}/{model}/members", headers=thief), 404, "clv_model_not_found"
    )
    assert_problem(
        await client.get(f"{MODELS}/999999999", headers=tenant.headers), 404, "clv_model_not_found"
    )
    assert_problem(
        await client.get(f"{MODELS}/0", headers=tenant.headers), 404, "clv_model_not_found"
    )
    r = await client.get(
        f"{MODELS}/{model}/members", params={"cursor": "!!"}, headers=tenant.headers
    )
    assert_problem(r, 422, "invalid_cursor")
    r = await client.get(
        f"{MODELS}/{model}/members", params={"quadrant": "gold"}, headers=tenant.headers
    )
    assert_problem(r, 422, "validation_error")
    # Their own (empty) data can't be fitted: the victim's purchases are not theirs.
    r = await client.post(
        MODELS, json={"time_unit": "week", "calibration_end": END.isoformat()}, headers=thief
    )
    assert_problem(r, 422, "insufficient_data")
    pos = await key_with(client, tenant.headers, "pos", "app", "partner")
    assert_problem(await client.get(f"{MODELS}/{model}", headers=pos), 403, "insufficient_scope")
    analyst = await key_with(client, tenant.headers, "analytics")
    assert (await client.get(f"{MODELS}/{model}/members", headers=analyst)).status_code == 200


async def test_list_models_newest_first_in_pages(client, tenant, other_tenant, simulated):
    made = []
    for unit, horizon in (("week", 52), ("month", 12), ("day", 30)):
        r = await client.post(
            MODELS,
            json={
                "time_unit": unit,
                "calibration_end": END.isoformat(),
                "horizon_periods": horizon,
            },
            headers=tenant.headers,
        )
        assert r.status_code == 201, r.text
        made.append(r.json())

    listed, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get(MODELS, params=params, headers=tenant.headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        listed += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    # Newest first, each exactly as GET .../models/{id} returns it.
    assert listed == list(reversed(made))
    assert [m["time_unit"] for m in listed] == ["day", "month", "week"]
    one = await client.get(f"{MODELS}/{made[1]['id']}", headers=tenant.headers)
    assert listed[1] == one.json()

    # Another tenant sees none of them; an analytics key sees them; other scopes don't.
    theirs = await client.get(MODELS, headers=other_tenant.headers)
    assert theirs.status_code == 200 and theirs.json() == {"items": [], "next_cursor": None}
    analyst = await key_with(client, tenant.headers, "analytics")
    r = await client.get(MODELS, params={"limit": 500}, headers=analyst)
    assert [m["id"] for m in r.json()["items"]] == [m["id"] for m in reversed(made)]
    pos = await key_with(client, tenant.headers, "pos", "app", "partner")
    assert_problem(await client.get(MODELS, headers=pos), 403, "insufficient_scope")
    r = await client.get(MODELS, params={"cursor": "!!"}, headers=tenant.headers)
    assert_problem(r, 422, "invalid_cursor")


async def test_the_cdnow_sample_fits_on_every_customer(client, tenant, cdnow_sample_gz):
    """The CDNOW sample imported through the API (gzipped), calibrated on its first 39 weeks
    as Fader, Hardie & Lee (2005) did: all 2,357 customers, the eight whose only purchase was
    of 0.00 included, and the parameters lifetimes finds on the same summary (bench/clv.py),
    which round to the published ones."""
    done = await post_import(
        client, tenant.headers, cdnow_sample_gz, media={**CSV, "content-encoding": "gzip"}
    )
    assert (done["rows"], done["imported"], done["members_created"]) == (6919, 6919, 2357)
    r = await client.post(
        MODELS,
        json={"time_unit": "week", "calibration_end": "1997-09-30"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    model = r.json()
    assert model["customers"] == 2357
    # lifetimes fits its summary file, whose times are rounded to 2 decimals: 1e-4 apart.
    lifetimes = {"r": 0.2426, "alpha": 4.4135, "a": 0.7929, "b": 2.4258}
    for name, value in lifetimes.items():
        assert model["bgnbd"][name] == pytest.approx(value, rel=1e-4), name
    assert model["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)  # the paper's
    published = {"p": 6.25, "q": 3.74, "v": 15.44}
    for name, value in published.items():
        assert model["gamma_gamma"][name] == pytest.approx(value, abs=0.01), name
