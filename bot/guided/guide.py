"""Everything the guided flows need at run time: their definitions, the service directory, and the
deployment's country and choice about sample services."""

from __future__ import annotations

from dataclasses import dataclass

from bot.directory import City, Directory, Found
from bot.guided.definitions import Flows

PENDING_FINDER = "finder:"


@dataclass(frozen=True)
class Place:
    """Where to search: a known city, or a shared location rounded to about a kilometre."""

    city: City | None = None
    near: tuple[float, float] | None = None

    @property
    def code(self) -> str:
        if self.city is not None:
            return f"c.{self.city.id}"
        assert self.near is not None
        return f"@{self.near[0]:.2f},{self.near[1]:.2f}"


@dataclass(frozen=True)
class Page:
    found: tuple[Found, ...]
    local: int  # how many results of the whole search are local (in the city or located)
    total: int
    page: int
    pages: int


@dataclass
class Guide:
    """The guided flows and the service directory of this deployment; a reload swaps both at once."""

    flows: Flows
    directory: Directory
    country: str
    samples: bool

    def replace(self, flows: Flows, directory: Directory) -> None:
        self.flows, self.directory = flows, directory

    def place(self, code: str) -> Place | None:
        """The place a button or pending state names; None when it is not one this bot could have made."""
        if code.startswith("c."):
            city = self.directory.cities.get(code[2:])
            return Place(city=city) if city is not None else None
        if code.startswith("@"):
            try:
                lat, lon = (float(part) for part in code[1:].split(","))
            except ValueError:
                return None
            return Place(near=(lat, lon)) if -90 <= lat <= 90 and -180 <= lon <= 180 else None
        return None

    def located(self, latitude: float, longitude: float) -> Place:
        return Place(near=(round(latitude, 2), round(longitude, 2)))

    def city_named(self, text: str) -> City | None:
        return self.directory.city_named(text, self.country)

    def known_cities(self) -> list[City]:
        return self.directory.cities_in(self.country, samples=self.samples)

    def page(self, category: str, place: Place | None, page: int) -> Page:
        """One page of results; places without local services still list the country-wide ones."""
        found = self.directory.search(category, self.country, city=place.city.id if place and place.city else None,
                                      near=place.near if place else None, samples=self.samples)
        size = self.flows.finder.page_size
        pages = max(1, -(-len(found) // size))
        page = min(max(page, 0), pages - 1)
        local = sum(1 for f in found if f.service.city is not None)
        return Page(tuple(found[page * size:(page + 1) * size]), local, len(found), page, pages)
