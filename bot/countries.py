"""Country profiles: what the assistant must know about the host country of a deployment.

One file per country under knowledge_base/countries/<CODE>.yml: emergency numbers, UNHCR's help
page, the national asylum authority where one exists, whether the state is party to the 1951
Refugee Convention and who registers asylum seekers, each fact with its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ContentError

GLOBAL_UNHCR_HELP = "https://help.unhcr.org/"
REGISTRATION_BY = ("unhcr", "state", "both")


@dataclass(frozen=True)
class Source:
    name: str
    url: str | None


@dataclass(frozen=True)
class EmergencyNumber:
    number: str
    service: str  # all | police | ambulance | fire | other
    source: Source
    label: str = ""


@dataclass(frozen=True)
class Fact:
    """A sourced statement about the country (convention status, who registers)."""

    value: str
    note: str
    source: Source | None


@dataclass(frozen=True)
class Authority:
    name: str
    url: str | None
    source: Source | None


@dataclass(frozen=True)
class CountryProfile:
    code: str
    emergency_numbers: tuple[EmergencyNumber, ...]
    unhcr_help: str | None
    name: str = ""
    convention: Fact | None = None  # value "party" or "not party"
    registration: Fact | None = None  # value unhcr | state | both
    authority: Authority | None = None
    review: str = "draft"
    file: str = ""

    @property
    def help_page(self) -> str:
        return self.unhcr_help or GLOBAL_UNHCR_HELP


def load_countries(folder: Path) -> dict[str, CountryProfile]:
    profiles = {}
    for path in sorted(folder.glob("*.yml")):
        profile = load_country(path)
        profiles[profile.code] = profile
    return profiles


def load_country(path: Path) -> CountryProfile:
    """Read one profile; raise ContentError naming the file when it is broken."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        numbers = tuple(
            EmergencyNumber(str(n["number"]), str(n["service"]), source(n["source"], str(path)),
                            str(n.get("label") or ""))
            for n in raw.get("emergency_numbers") or ()
        )
        convention = raw.get("refugee_convention")
        registration = raw.get("registration")
        authority = raw.get("asylum_authority")
        return CountryProfile(
            code=str(raw["code"]).upper(),
            emergency_numbers=numbers,
            unhcr_help=raw.get("unhcr_help"),
            name=str(raw.get("name") or ""),
            convention=Fact("party" if convention["party"] else "not party", str(convention.get("note") or ""),
                            _optional_source(convention, path)) if convention else None,
            registration=Fact(str(registration["by"]), str(registration.get("note") or ""),
                              _optional_source(registration, path)) if registration else None,
            authority=Authority(str(authority["name"]), authority.get("url"), _optional_source(authority, path))
            if authority else None,
            review=str(raw.get("review") or "draft"),
            file=str(path),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ContentError(f"{path}: not a valid country profile ({type(exc).__name__}: {exc})") from exc


def source(raw: Any, where: str) -> Source:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ContentError(f"{where}: every source needs a name (and a url)")
    return Source(str(raw["name"]), str(raw["url"]) if raw.get("url") else None)


def _optional_source(raw: dict[str, Any], path: Path) -> Source | None:
    return source(raw["source"], str(path)) if raw.get("source") else None
