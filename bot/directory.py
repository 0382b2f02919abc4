"""The service directory: where to find legal aid, clinics, classes... by category and place.

The files under knowledge_base/services/ are the source editors change (schema in
knowledge_base/README.md). Like the answers, they are written to the database at start-up and
read back into an immutable snapshot; searching is then in memory (a directory has hundreds of
entries, not millions). A file marked `sample: true` holds invented entries for trying the finder:
they are shown with a warning, and only where the deployment allows samples.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.countries import Source, source
from bot.db.models import ServiceCity, ServiceEntry
from bot.emergency import normalise
from bot.errors import ContentError

CATEGORIES = ("legal", "language", "health", "mental_health", "housing", "work", "women", "community",
              "basic_needs", "education", "family")
_DAYS = {"Mo": 0, "Tu": 1, "We": 2, "Th": 3, "Fr": 4, "Sa": 5, "Su": 6}
_DAY = "(Mo|Tu|We|Th|Fr|Sa|Su)"
_SPAN = r"\d\d:\d\d-\d\d:\d\d"
_HOURS = re.compile(rf"{_DAY}(?:-{_DAY})? ({_SPAN}(?:,{_SPAN})*)")
_PHONE = re.compile(r"\+\d[\d ]{6,18}\d")
MAX_WORDS_FOR_A_CITY = 5


@dataclass(frozen=True)
class City:
    id: str
    country: str
    names: tuple[str, ...]
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    categories: tuple[str, ...]
    country: str | None
    city: str | None
    latitude: float | None
    longitude: float | None
    address: str | None
    phone: str | None
    hours: str | None
    languages: tuple[str, ...]
    website: str | None
    last_verified: dt.date
    source: Source
    review: str = "draft"
    sample: bool = False
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Found:
    """A service in a search result, with its distance in km when the user shared a location."""

    service: Service
    distance_km: float | None


@dataclass(frozen=True)
class Directory:
    cities: dict[str, City]
    services: tuple[Service, ...]

    def cities_in(self, country: str, *, samples: bool) -> list[City]:
        """Cities of `country` that have at least one service the deployment shows."""
        used = {s.city for s in self.services if s.country == country and (samples or not s.sample)}
        return [c for c in self.cities.values() if c.country == country and c.id in used]

    def city_named(self, text: str, country: str) -> City | None:
        """The city a short message names ("Istanbul", "in gaziantep", "اسطنبول"), if any."""
        words = normalise(text)
        if not words or len(words) > MAX_WORDS_FOR_A_CITY:
            return None
        for city in self.cities.values():
            if city.country != country:
                continue
            for name in city.names:
                wanted = normalise(name)
                if any(words[i:i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1)):
                    return city
        return None

    def search(self, category: str, country: str, *, city: str | None = None,
               near: tuple[float, float] | None = None, samples: bool) -> list[Found]:
        """Services of `category`: local ones first (closest first, or in the city), then country-wide
        and online ones."""
        shown = [s for s in self.services
                 if category in s.categories and (samples or not s.sample) and s.country in (country, None)]
        local: list[Found] = []
        if near is not None:
            local = sorted((Found(s, distance_km(near, (s.latitude, s.longitude))) for s in shown
                            if s.latitude is not None and s.longitude is not None),
                           key=lambda found: found.distance_km or 0.0)
        elif city is not None:
            local = [Found(s, None) for s in shown if s.city == city]
        wide = [Found(s, None) for s in shown if s.city is None]
        wide.sort(key=lambda found: (found.service.country is None, found.service.name))
        return local + wide


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def parse_hours(hours: str) -> list[tuple[int, int, list[str]]]:
    """'Mo-Fr 09:00-17:00; Sa 10:00-14:00' -> [(0, 4, ['09:00-17:00']), (5, 5, ['10:00-14:00'])]."""
    parsed = []
    for part in (p.strip() for p in hours.split(";")):
        match = _HOURS.fullmatch(part)
        if match is None:
            raise ValueError(f"cannot read opening hours {part!r}; write them like 'Mo-Fr 09:00-17:00; Sa 10:00-14:00'")
        first = _DAYS[match.group(1)]
        last = _DAYS[match.group(2)] if match.group(2) else first
        parsed.append((first, last, match.group(3).split(",")))
    return parsed


# --- Reading the files ----------------------------------------------------------------------


def load_directory(folder: Path) -> Directory:
    """Read every knowledge_base/services/*.yml; raise ContentError naming the file and line if broken."""
    directory, problems = read_directory(folder)
    if problems:
        raise ContentError(problems[0])
    return directory


def read_directory(folder: Path) -> tuple[Directory, list[str]]:
    """The directory without its broken entries, and one "file:line: problem" per broken entry."""
    cities: dict[str, City] = {}
    services: list[Service] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.yml")):
        try:
            text = path.read_text(encoding="utf-8")
            raw = yaml.safe_load(text) or {}
            lines = _item_lines(text)
        except (OSError, yaml.YAMLError) as exc:
            problems.append(f"{path}: cannot be read as YAML ({exc})")
            continue
        sample = bool(raw.get("sample", False))
        for city_id, spec in (raw.get("cities") or {}).items():
            try:
                cities[str(city_id)] = City(str(city_id), str(spec["country"]).upper(),
                                            tuple(str(n) for n in spec["names"]),
                                            float(spec["coordinates"][0]), float(spec["coordinates"][1]))
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                problems.append(f"{path}:{lines['cities'].get(str(city_id), 1)}: city {city_id!r} needs country, "
                                f"names and coordinates [latitude, longitude] ({exc})")
        for index, item in enumerate(raw.get("services") or ()):
            try:
                services.append(_service(item, path, lines["services"].get(str(index), 1), sample))
            except ContentError as exc:
                problems.append(str(exc))
    seen: set[str] = set()
    for service in services:
        if service.id in seen:
            problems.append(f"{service.file}:{service.line}: service id {service.id!r} is used twice")
        seen.add(service.id)
        if service.city is not None and service.city not in cities:
            problems.append(f"{service.file}:{service.line}: service {service.id!r} is in city {service.city!r}, "
                            "which no file lists under cities:")
    return Directory(cities, tuple(services)), problems


def _item_lines(text: str) -> dict[str, dict[str, int]]:
    """The line of each city (by id) and each service (by position) of a directory file."""
    found: dict[str, dict[str, int]] = {"cities": {}, "services": {}}
    node = yaml.compose(text)
    if not isinstance(node, yaml.MappingNode):
        return found
    for key, value in node.value:
        if key.value == "cities" and isinstance(value, yaml.MappingNode):
            found["cities"] = {str(k.value): k.start_mark.line + 1 for k, _ in value.value}
        elif key.value == "services" and isinstance(value, yaml.SequenceNode):
            found["services"] = {str(i): item.start_mark.line + 1 for i, item in enumerate(value.value)}
    return found


def _service(item: Any, path: Path, line: int, sample: bool) -> Service:
    where = f"{path}:{line}: service {item.get('id') if isinstance(item, dict) else item!r}"
    if not isinstance(item, dict):
        raise ContentError(f"{where}: must be a mapping")
    try:
        categories = tuple(str(c) for c in item["categories"])
        unknown = [c for c in categories if c not in CATEGORIES]
        if unknown or not categories:
            raise ContentError(f"{where}: unknown categories {unknown}; use some of {', '.join(CATEGORIES)}")
        coordinates = item.get("coordinates")
        latitude, longitude = (float(coordinates[0]), float(coordinates[1])) if coordinates else (None, None)
        if latitude is not None and not (-90 <= latitude <= 90 and -180 <= (longitude or 0) <= 180):
            raise ContentError(f"{where}: coordinates must be [latitude, longitude] in degrees")
        phone = str(item["phone"]) if item.get("phone") else None
        if phone is not None and not _PHONE.fullmatch(phone):
            raise ContentError(f"{where}: phone {phone!r} must be international, like +90 212 000 00 00")
        hours = str(item["hours"]) if item.get("hours") else None
        if hours is not None:
            parse_hours(hours)
        verified = item["last_verified"]
        if not isinstance(verified, dt.date):
            verified = dt.date.fromisoformat(str(verified))
        return Service(
            id=str(item["id"]), name=str(item["name"]), categories=categories,
            country=str(item["country"]).upper() if item.get("country") else None,
            city=str(item["city"]) if item.get("city") else None,
            latitude=latitude, longitude=longitude,
            address=str(item["address"]) if item.get("address") else None,
            phone=phone, hours=hours, languages=tuple(str(code) for code in item.get("languages") or ()),
            website=str(item["website"]) if item.get("website") else None,
            last_verified=verified, source=source(item["source"], where),
            review=str(item.get("review") or "draft"), sample=sample, file=str(path), line=line,
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ContentError(f"{where}: {exc}") from exc


# --- The database round trip ----------------------------------------------------------------


async def load_directory_snapshot(folder: Path, sessions: async_sessionmaker[AsyncSession]) -> Directory:
    """Read the files, store them in the database and return a snapshot read back from it."""
    directory = load_directory(folder)
    async with sessions.begin() as session:
        await session.execute(delete(ServiceEntry))
        await session.execute(delete(ServiceCity))
        session.add_all(ServiceCity(id=c.id, country=c.country, names=list(c.names), latitude=c.latitude,
                                    longitude=c.longitude) for c in directory.cities.values())
        session.add_all(ServiceEntry(
            id=s.id, name=s.name, categories=list(s.categories), country=s.country, city=s.city,
            latitude=s.latitude, longitude=s.longitude, address=s.address, phone=s.phone, hours=s.hours,
            languages=list(s.languages), website=s.website, last_verified=s.last_verified,
            source={"name": s.source.name, "url": s.source.url}, review=s.review, sample=s.sample,
            source_file=f"{s.file}:{s.line}") for s in directory.services)
    async with sessions() as session:
        cities = {row.id: City(row.id, row.country, tuple(row.names), row.latitude, row.longitude)
                  for row in await session.scalars(select(ServiceCity))}
        services = tuple(Service(
            id=row.id, name=row.name, categories=tuple(row.categories), country=row.country, city=row.city,
            latitude=row.latitude, longitude=row.longitude, address=row.address, phone=row.phone, hours=row.hours,
            languages=tuple(row.languages), website=row.website, last_verified=row.last_verified,
            source=Source(row.source["name"], row.source.get("url")), review=row.review, sample=row.sample,
            file=row.source_file.rpartition(":")[0], line=int(row.source_file.rpartition(":")[2]))
            for row in await session.scalars(select(ServiceEntry).order_by(ServiceEntry.id)))
    return Directory(cities, services)
