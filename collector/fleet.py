"""Hub configs for many hubs at once (``hubsense simulate --hubs N --out DIR``): N files like a
template hub (by default ``firmware_config/stockholm.toml``: 12 zones, 4 agents, 26 sensors), each
with its own id, name, address, city and region, for scale tests, benchmarks (``bench/scale.py``)
and trying the network overview.  Every file passes ``hubsense config check``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from hubsense.config import DEFAULT_CONFIG_DIR

TEMPLATE = DEFAULT_CONFIG_DIR / "stockholm.toml"
# (city, region): Swedish cities and their counties, so the hub picker has regions to group by
CITIES = [
    ("Stockholm", "Stockholm"), ("Göteborg", "Västra Götaland"), ("Malmö", "Skåne"), ("Uppsala", "Uppsala"),
    ("Västerås", "Västmanland"), ("Örebro", "Örebro"), ("Linköping", "Östergötland"), ("Helsingborg", "Skåne"),
    ("Jönköping", "Jönköping"), ("Norrköping", "Östergötland"), ("Lund", "Skåne"), ("Umeå", "Västerbotten"),
    ("Gävle", "Gävleborg"), ("Borås", "Västra Götaland"), ("Södertälje", "Stockholm"),
    ("Eskilstuna", "Södermanland"), ("Halmstad", "Halland"), ("Växjö", "Kronoberg"), ("Karlstad", "Värmland"),
    ("Sundsvall", "Västernorrland"), ("Östersund", "Jämtland"), ("Luleå", "Norrbotten"),
    ("Trollhättan", "Västra Götaland"), ("Kalmar", "Kalmar"), ("Falun", "Dalarna"), ("Skövde", "Västra Götaland"),
    ("Kiruna", "Norrbotten"), ("Visby", "Gotland"), ("Karlskrona", "Blekinge"), ("Nyköping", "Södermanland"),
]
STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Järnvägsgatan", "Skolgatan", "Torggatan", "Parkgatan"]
_TOP_LEVEL = ("id", "name", "address", "city", "region")


def slug(text: str) -> str:
    """'Västerås' -> 'vasteras' (an id: lower-case ASCII letters, digits and '-')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def hub_identity(index: int) -> dict[str, str]:
    """Id, name, address, city and region of the ``index``-th generated hub (0-based, stable)."""
    city, region = CITIES[index % len(CITIES)]
    number = index // len(CITIES) + 1
    return {"id": f"{slug(city)}-{number}", "name": f"Hubsense {city} {number}",
            "address": f"{STREETS[index % len(STREETS)]} {number + 2}, {city}", "city": city, "region": region}


def hub_config_text(template: str, index: int) -> str:
    """The template's TOML with the top-level identity of the ``index``-th hub (the rest is kept)."""
    identity = hub_identity(index)
    lines = template.splitlines()
    first_table = next(i for i, line in enumerate(lines) if line.startswith("["))
    head = [f'{key} = "{identity[key]}"' for key in _TOP_LEVEL]
    keep = [line for line in lines[:first_table]  # the template's other top-level keys (timezone, ...)
            if line.strip() and not line.startswith("#") and line.split("=")[0].strip() not in _TOP_LEVEL]
    return "\n".join([f"# Generated hub {index + 1} (hubsense simulate --hubs)", *head, *keep, "",
                      *lines[first_table:]]) + "\n"


def write_hub_configs(n: int, out: Path, template: Path = TEMPLATE) -> list[Path]:
    """Write ``n`` hub configs into ``out`` (created; existing generated files are replaced)."""
    out.mkdir(parents=True, exist_ok=True)
    text = template.read_text(encoding="utf-8")
    paths = []
    for i in range(n):
        path = out / f"{hub_identity(i)['id']}.toml"
        path.write_text(hub_config_text(text, i), encoding="utf-8")
        paths.append(path)
    return paths
