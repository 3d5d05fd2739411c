"""Small but real MaxMind DB (.mmdb) files for the GeoIP tests, written with mmdb-writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

GB_NETWORK = "81.2.69.0/24"  # the addresses MaxMind's own test databases use for GB
DE_NETWORK = "2a01:4f8::/32"
SE_REGISTERED_NETWORK = "89.160.20.112/28"  # only registered_country, as for some networks
CN_VENDOR_NETWORK = "175.16.199.0/24"  # a vendor whose records say `country_code`
BAD_CODE_NETWORK = "216.160.83.56/29"
PRIVATE_NETWORK = "10.0.0.0/8"  # present in the file, yet private addresses count as unknown


def _country(code: str, name: str) -> dict[str, Any]:
    return {"geoname_id": 1, "iso_code": code, "names": {"en": name, "de": name}}


COUNTRY_RECORDS: list[tuple[str, dict[str, Any]]] = [
    (GB_NETWORK, {"country": _country("GB", "United Kingdom")}),
    (DE_NETWORK, {"country": _country("DE", "Germany"), "continent": {"code": "EU"}}),
    (SE_REGISTERED_NETWORK, {"registered_country": _country("SE", "Sweden")}),
    (CN_VENDOR_NETWORK, {"country_code": "cn", "country_name": "China"}),
    (BAD_CODE_NETWORK, {"country": {"iso_code": "U.S.A."}}),
    (PRIVATE_NETWORK, {"country": _country("FR", "France")}),
]


def write_database(
    path: Path,
    records: list[tuple[str, dict[str, Any]]],
    *,
    database_type: str = "GeoLite2-Country",
    ip_version: int = 6,
) -> Path:
    """Write an .mmdb file holding these (network, record) pairs and return its path."""
    writer = MMDBWriter(
        ip_version=ip_version,
        database_type=database_type,
        languages=["en"],
        description="MeatLizard test data",
        ipv4_compatible=ip_version == 6,
    )
    for network, record in records:
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


def country_database(folder: Path) -> Path:
    """Write the dual-stack country database the tests share."""
    return write_database(folder / "countries.mmdb", COUNTRY_RECORDS)
