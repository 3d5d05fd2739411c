"""Redirect fast path with and without GEOIP_DATABASE: does counting countries cost anything?

Two `meatlizard serve` subprocesses on the embedded default (SQLite, in-process cache,
INFERENCE=fallback, LOG_LEVEL=WARNING), identical except that one has GEOIP_DATABASE set
to a generated dual-stack country database (mmdb-writer: --networks random networks across
the IPv4 space, 250 country codes, records shaped like GeoLite2-Country's). wrk drives both
with the same Lua script: a browser's User-Agent (people, not bots, get a country) and
X-Forwarded-For from a pool of --addresses client addresses in turn, which uvicorn believes
from loopback as behind a local proxy. The default pool is larger than the per-process memo
(4096), so cycling through it misses the memo every time: the worst case, a database lookup
per click; `--addresses 2000` measures visitors seen before. The two servers are measured
alternately for --rounds rounds (medians reported); the load average is printed. After
shutdown the stored country counts are checked against the clicks.

    .venv/bin/python bench/links_geoip.py [--duration 10] [--rounds 3] [--connections 50]

Needs `wrk` on PATH (`apt-get install wrk`) and the dev requirements (mmdb-writer).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from links import (
    TARGET,
    Result,
    free_port,
    load_average,
    median,
    run_wrk,
    wait_for,
    wrk_parser,
)
from mmdb_writer import MMDBWriter
from netaddr import IPSet

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"  # a person
LANGUAGES = ["de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"]
LUA = """local pool = {{{addresses}}}
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, {{["X-Forwarded-For"] = pool[n % #pool + 1],
                               ["User-Agent"] = "{agent}"}})
end
"""


def geolite2_record(code: str) -> dict[str, object]:
    """Return a record shaped like GeoLite2-Country's: names in 8 languages, three maps."""
    names = {language: f"Country {code}" for language in LANGUAGES}
    country = {"geoname_id": 2921044, "iso_code": code, "names": names}
    continent = {"code": "EU", "geoname_id": 6255148, "names": names}
    return {"continent": continent, "country": country, "registered_country": country}


def write_database(path: Path, networks: int, rng: random.Random) -> list[str]:
    """Write a country database of random /16-/24 networks; return addresses inside them."""
    codes = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    writer = MMDBWriter(
        ip_version=6, database_type="GeoLite2-Country", ipv4_compatible=True, languages=["en"]
    )
    inside = []
    for _ in range(networks):
        first = rng.choice([n for n in range(1, 224) if n not in (10, 127, 169, 172, 192)])
        prefix = rng.choice([16, 20, 24])
        octets = [first, rng.randrange(256), rng.randrange(256) if prefix > 16 else 0, 0]
        network = f"{'.'.join(map(str, octets))}/{prefix}"
        code = rng.choice(codes[:250])
        writer.insert_network(IPSet([network]), geolite2_record(code))
        inside.append(f"{octets[0]}.{octets[1]}.{octets[2]}.{rng.randrange(1, 255)}")
    writer.to_db_file(str(path))
    return inside


def serve(folder: Path, port: int, geoip: Path | None) -> subprocess.Popen[bytes]:
    folder.mkdir()
    env = {**os.environ, "DATA_DIR": str(folder), "INFERENCE": "fallback", "LOG_LEVEL": "WARNING"}
    env.pop("FORWARDED_ALLOW_IPS", None)
    if geoip:
        env["GEOIP_DATABASE"] = str(geoip)
    command = [str(Path(sys.executable).parent / "meatlizard"), "serve", "--port", str(port)]
    return subprocess.Popen(command, env=env, cwd=folder)


def stored(folder: Path) -> tuple[int, int]:
    """Return (clicks written, country counts written) of the benchmark's link."""
    with sqlite3.connect(folder / "meatlizard.db") as db:
        clicks = db.execute("SELECT clicks + bot_clicks FROM links").fetchone()[0]
        where = "WHERE kind = 'country'"
        countries = db.execute(f"SELECT COALESCE(SUM(count), 0) FROM link_stats {where}")
        return clicks, countries.fetchone()[0]


def main() -> None:
    parser = wrk_parser(__doc__)
    parser.add_argument("--networks", type=int, default=20000)
    parser.add_argument("--addresses", type=int, default=20000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("missing wrk: apt-get install wrk")
    rng = random.Random(42)
    load_before = load_average()
    runs: dict[str, list[Result]] = {"plain": [], "geoip": []}
    with tempfile.TemporaryDirectory(prefix="ml-bench-geoip-") as tmp:
        database = Path(tmp) / "countries.mmdb"
        inside = write_database(database, args.networks, rng)
        pool = [rng.choice(inside) for _ in range(args.addresses)]
        script = Path(tmp) / "xff.lua"
        script.write_text(LUA.format(addresses=", ".join(f'"{a}"' for a in pool), agent=BROWSER))
        ports = {"plain": free_port(), "geoip": free_port()}
        servers = {
            name: serve(Path(tmp) / name, ports[name], database if name == "geoip" else None)
            for name in runs
        }
        try:
            urls = {}
            for name, server in servers.items():
                base = f"http://127.0.0.1:{ports[name]}"
                wait_for(base + "/healthz", server)
                created = httpx.post(base + "/api/v1/links", json={"url": TARGET}, timeout=10)
                created.raise_for_status()
                urls[name] = f"{base}/s/{created.json()['slug']}"
            for _ in range(args.rounds):
                for name in runs:
                    runs[name].append(run_wrk(urls[name], args, servers[name].pid, str(script)))
        finally:
            for server in servers.values():
                server.send_signal(signal.SIGINT)
            for server in servers.values():
                server.wait(60)
        clicks, countries = stored(Path(tmp) / "geoip")
        size_mb = database.stat().st_size / 1e6
    plain, geoip = median(runs["plain"]), median(runs["geoip"])
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, loopback, X-Forwarded-For"
        f" from {args.addresses} addresses, median of {args.rounds} alternating rounds"
    )
    print(f"database: {args.networks} networks, {size_mb:.1f} MB")
    print(f"load average before: {load_before}   after: {load_average()}")
    for name, result in [("meatlizard, no GeoIP", plain), ("meatlizard, GEOIP_DATABASE", geoip)]:
        print(
            f"{name:27s} {result.rps:8.0f} req/s   p99 {result.p99_ms:7.2f} ms"
            f"   server CPU {result.cpu_us:5.1f} us/request"
        )
    print(f"ratio GeoIP/no GeoIP: {geoip.rps / plain.rps:.3f} req/s")
    print(f"CPU difference: {geoip.cpu_us - plain.cpu_us:+.1f} us/request")
    print(f"GeoIP server: {clicks} clicks written, {countries} country counts (must be equal)")


if __name__ == "__main__":
    main()
