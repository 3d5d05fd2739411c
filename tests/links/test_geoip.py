"""Countries of clicks from a GeoIP (.mmdb) database: lookups, the setting, counts, output."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from meatlizard.core.settings import SettingsError, load_settings
from meatlizard.links.geo import RECHECK_SECONDS, UNKNOWN, CountryLookup, is_global
from meatlizard.links.models import LinkStat
from meatlizard.runtime import Services
from tests.helpers import bearer, user_token
from tests.links.geoip_db import country_database, write_database
from tests.links.helpers import HUMAN, create_link

GB = [f"81.2.69.{i}" for i in range(1, 51)]  # 50 people
DE = [f"2a01:4f8:{i:x}::7" for i in range(1, 31)]  # 30
SE = [f"89.160.20.{112 + i % 16}" for i in range(20)]  # 20, only a registered country
UNKNOWN_PUBLIC = [f"8.8.{i}.8" for i in range(15)]  # 15 public addresses not in the file
PRIVATE = [f"10.9.8.{i}" for i in range(5)] + ["127.0.0.1", "::1", "fd00::5", "192.168.1.2"]
CURL = {"User-Agent": "curl/8.5.0"}


@pytest.fixture(scope="session")
def geoip_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return country_database(tmp_path_factory.mktemp("geoip"))


@pytest.fixture
def settings_overrides(geoip_path: Path) -> dict[str, object]:
    return {"geoip_database": geoip_path}


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("81.2.69.160", "GB"),
        ("2a01:4f8:1:2::3", "DE"),
        ("::ffff:81.2.69.1", "GB"),  # an IPv4 client on a dual-stack socket
        ("89.160.20.115", "SE"),  # registered_country when country is missing
        ("175.16.199.3", "CN"),  # a top-level country_code (other vendors' format)
        ("216.160.83.57", UNKNOWN),  # not an ISO code
        ("8.8.8.8", UNKNOWN),  # not in the file
        ("2001:4860::8888", UNKNOWN),
        ("10.1.2.3", UNKNOWN),  # in the file (as FR), but private
        ("127.0.0.1", UNKNOWN),
        ("::1", UNKNOWN),
        ("fe80::1", UNKNOWN),
        ("192.0.2.1", UNKNOWN),  # documentation range
        ("unknown", UNKNOWN),  # what some proxies forward
        ("", UNKNOWN),
        (None, UNKNOWN),
    ],
)
def test_lookup(geoip_path: Path, address: str | None, country: str) -> None:
    lookup = CountryLookup(geoip_path)
    assert lookup.country(address) == country
    lookup.close()
    assert lookup.country("81.2.69.99") == UNKNOWN  # a closed file never breaks a redirect


def test_global_check_agrees_with_ipaddress() -> None:
    rng = random.Random(5)
    v4 = [ipaddress.IPv4Address(rng.getrandbits(32)) for _ in range(20000)]
    v6_prefixes = ["fe80::", "fc00::", "fd12:3456::", "ff02::", "2001:db8::", "2a01:4f8::", "::"]
    v6 = [
        ipaddress.IPv6Address(int(ipaddress.IPv6Address(prefix)) | rng.getrandbits(64))
        for prefix in v6_prefixes
        for _ in range(200)
    ]
    special = ["100.64.1.1", "198.18.0.1", "192.0.0.170", "255.255.255.255", "0.0.0.0", "::1"]
    addresses = [*v4, *v6, *map(ipaddress.ip_address, special)]
    assert sum(not a.is_global for a in addresses) > 2000  # both kinds are well represented
    assert [is_global(a.packed) for a in addresses] == [a.is_global for a in addresses]


def test_ipv4_only_database_counts_ipv6_as_unknown(tmp_path: Path) -> None:
    path = write_database(
        tmp_path / "v4.mmdb", [("81.2.69.0/24", {"country": {"iso_code": "GB"}})], ip_version=4
    )
    lookup = CountryLookup(path)
    assert lookup.country("81.2.69.1") == "GB"
    assert lookup.country("2a01:4f8::1") == UNKNOWN


def test_memo_is_bounded(geoip_path: Path) -> None:
    lookup = CountryLookup(geoip_path, memo_size=8)
    for address in GB + DE:
        lookup.country(address)
    assert lookup.country.cache_info().currsize == 8  # type: ignore[attr-defined]
    lookup.country(DE[-1])
    assert lookup.country.cache_info().hits == 1  # type: ignore[attr-defined]


def _problem(path: Path) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(geoip_database=path)
    return str(caught.value)


def test_setting_is_validated(tmp_path: Path, geoip_path: Path) -> None:
    assert load_settings(geoip_database=geoip_path).geoip_database == geoip_path
    assert load_settings().geoip_database is None
    not_mmdb = tmp_path / "GeoLite2-Country.mmdb"
    not_mmdb.write_bytes(b"<html>Please log in to download</html>")
    asn = write_database(tmp_path / "asn.mmdb", [], database_type="GeoLite2-ASN")
    problems = {
        "missing": _problem(tmp_path / "nowhere.mmdb"),
        "folder": _problem(tmp_path),
        "not an mmdb": _problem(not_mmdb),
        "no countries": _problem(asn),
    }
    assert problems == {
        "missing": f"setting GEOIP_DATABASE: no such file {str(tmp_path / 'nowhere.mmdb')!r}",
        "folder": f"setting GEOIP_DATABASE: {str(tmp_path)!r} is a folder; "
        "name the .mmdb file in it",
        "not an mmdb": f"setting GEOIP_DATABASE: {str(not_mmdb)!r} is not a MaxMind DB "
        "(.mmdb) file",
        "no countries": f"setting GEOIP_DATABASE: {str(asn)!r} is a GeoLite2-ASN database, "
        "which has no countries; use a country or city database",
    }


def test_serve_stops_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "GEOIP_DATABASE": str(tmp_path / "GeoLite2-Country.mmdb")}
    result = subprocess.run(
        [sys.executable, "-m", "meatlizard", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "meatlizard: setting GEOIP_DATABASE: no such file "
        f"{str(tmp_path / 'GeoLite2-Country.mmdb')!r}"
    ]


async def _countries(client: httpx.AsyncClient, token: str, slug: str) -> list[tuple[str, int]]:
    stats = await client.get(f"/api/v1/links/{slug}/stats", headers=bearer(token))
    assert stats.status_code == 200
    return [(row["value"], row["count"]) for row in stats.json()["countries"]]


async def test_burst_from_many_addresses_is_counted_exactly(
    client: httpx.AsyncClient, services: Services
) -> None:
    """The live server is uvicorn as `meatlizard serve` runs it: loopback is a trusted proxy."""
    token = await user_token(client)
    slug = (await create_link(client, token))["slug"]
    people = GB + DE + SE + UNKNOWN_PUBLIC + PRIVATE
    clicks = [{**HUMAN, "X-Forwarded-For": address} for address in people]
    clicks += [{**CURL, "X-Forwarded-For": address} for address in GB[:12]]  # bots: no country
    responses = await asyncio.gather(*(client.get(f"/s/{slug}", headers=h) for h in clicks))
    assert {r.status_code for r in responses} == {302}
    await services.links.clicks.flush()
    stats = (await client.get(f"/api/v1/links/{slug}/stats", headers=bearer(token))).json()
    assert (stats["clicks"], stats["bot_clicks"]) == (len(people), 12)
    assert stats["countries"] == [
        {"value": "GB", "count": 50, "name": "United Kingdom", "flag": "\U0001f1ec\U0001f1e7"},
        {"value": "DE", "count": 30, "name": "Germany", "flag": "\U0001f1e9\U0001f1ea"},
        {"value": UNKNOWN, "count": 24, "name": "Unknown", "flag": ""},
        {"value": "SE", "count": 20, "name": "Sweden", "flag": "\U0001f1f8\U0001f1ea"},
    ]
    async with services.sessions() as db:
        values = set(await db.scalars(select(LinkStat.value)))
    assert values.isdisjoint(people)  # aggregates only: no address is stored
    page = await client.get(f"/links/{slug}/stats")
    assert page.status_code == 200
    assert 'id="link-countries"' in page.text and 'id="countries-off"' not in page.text
    assert "\U0001f1ec\U0001f1e7</span> United Kingdom</td>" in page.text
    assert "Sweden" in page.text and "Unknown" in page.text


async def test_route_path_and_asgi_client_address(
    client: httpx.AsyncClient, app: FastAPI, services: Services
) -> None:
    token = await user_token(client)
    protected = (await create_link(client, token, password="s3cret"))["slug"]
    plain = (await create_link(client, token))["slug"]
    # Password links are answered by the route, not the fast path.
    for address in DE[:3]:
        headers = {**HUMAN, "X-Link-Password": "s3cret", "X-Forwarded-For": address}
        assert (await client.get(f"/s/{protected}", headers=headers)).status_code == 302
    # In-process ASGI clients: no proxy, the connection's own address counts.
    for address in [*GB[:4], "8.8.4.4"]:
        transport = httpx.ASGITransport(app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.get(f"/s/{plain}", headers=HUMAN)).status_code == 302
    await services.links.clicks.flush()
    assert await _countries(client, token, protected) == [("DE", 3)]
    assert await _countries(client, token, plain) == [("GB", 4), (UNKNOWN, 1)]


async def test_forwarded_for_is_trusted_only_from_trusted_proxies(
    client: httpx.AsyncClient, app: FastAPI, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's proxy handling, as `meatlizard serve` configures it (FORWARDED_ALLOW_IPS)."""
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    config = uvicorn.Config(app, log_level="warning")
    config.load()
    token = await user_token(client)
    slug = (await create_link(client, token))["slug"]
    forged = {**HUMAN, "X-Forwarded-For": GB[0]}
    for peer in ["8.8.4.4", "2001:4860::1", "127.0.0.1"]:  # only loopback is trusted
        transport = httpx.ASGITransport(config.loaded_app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.get(f"/s/{slug}", headers=forged)).status_code == 302
    await services.links.clicks.flush()
    assert await _countries(client, token, slug) == [(UNKNOWN, 2), ("GB", 1)]


def test_a_replaced_database_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    path = write_database(tmp_path / "countries.mmdb", [("81.2.69.0/24", {"country_code": "GB"})])
    lookup = CountryLookup(path)
    try:
        assert lookup.country("81.2.69.7") == "GB"
        start = time.monotonic()
        replacement = write_database(
            tmp_path / "new.mmdb", [("81.2.69.0/24", {"country_code": "IE"})]
        )
        os.replace(replacement, path)  # as geoipupdate does: a new file renamed over the old
        assert not lookup.reload_if_changed(now=start)  # looked at once a minute at most
        assert lookup.country("81.2.69.7") == "GB"
        assert lookup.reload_if_changed(now=start + RECHECK_SECONDS + 1)
        assert lookup.country("81.2.69.7") == "IE"  # the memo was cleared too
        assert not lookup.reload_if_changed(now=start + 2 * RECHECK_SECONDS + 2)  # unchanged
    finally:
        lookup.close()


def test_an_unusable_replacement_keeps_the_loaded_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_database(tmp_path / "countries.mmdb", [("81.2.69.0/24", {"country_code": "GB"})])
    lookup = CountryLookup(path)
    try:
        start = time.monotonic()
        broken = tmp_path / "broken.mmdb"
        broken.write_bytes(b"half a download")
        os.replace(broken, path)
        with caplog.at_level("WARNING", logger="meatlizard.links.geo"):
            assert not lookup.reload_if_changed(now=start + RECHECK_SECONDS + 1)
            assert not lookup.reload_if_changed(now=start + 2 * RECHECK_SECONDS + 2)
        refusals = [r for r in caplog.records if "unusable file" in r.getMessage()]
        assert len(refusals) == 1  # said once, not every minute
        assert "is not a MaxMind DB" in refusals[0].getMessage()
        assert lookup.country("81.2.69.7") == "GB"
    finally:
        lookup.close()
