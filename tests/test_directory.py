"""The service directory: reading and checking its files, finding cities as people write them, searching."""

from pathlib import Path

import pytest

from bot.directory import distance_km, load_directory
from bot.errors import ContentError
from bot.guided.rendering import format_hours
from bot.settings import ROOT

DIRECTORY = load_directory(ROOT / "knowledge_base" / "services")


@pytest.mark.parametrize("written", ["Istanbul", "istanbul", "İSTANBUL", "in istanbul please", "إسطنبول",
                                     "اسطنبول", "استانبول", "استنبول", "Istanbuul"])
def test_a_city_is_found_however_it_is_written(written: str) -> None:
    city = DIRECTORY.city_named(written, "TR")
    assert city is not None and city.id == "istanbul"


def test_a_long_question_or_another_countrys_city_is_not_a_city_answer() -> None:
    assert DIRECTORY.city_named("how do I register for asylum when I arrive in istanbul by bus", "TR") is None
    assert DIRECTORY.city_named("Istanbul", "JO") is None


def test_a_shared_location_lists_the_closest_first_then_the_country_wide_services() -> None:
    gaziantep = (37.0662, 37.3833)
    found = DIRECTORY.search("legal", "TR", near=gaziantep, samples=True)
    distances = [f.distance_km for f in found if f.distance_km is not None]
    assert distances == sorted(distances) and distances[0] < 20
    assert found[-1].service.id == "unhcr-help-tr"
    assert 700 < distance_km(gaziantep, (41.0082, 28.9784)) < 900


def test_samples_are_left_out_unless_allowed() -> None:
    assert all(not f.service.sample for f in DIRECTORY.search("legal", "TR", city="istanbul", samples=False))
    assert DIRECTORY.cities_in("TR", samples=False) == []
    assert {c.id for c in DIRECTORY.cities_in("TR", samples=True)} == {"istanbul", "gaziantep"}


def test_online_services_are_offered_in_every_country() -> None:
    assert [f.service.id for f in DIRECTORY.search("family", "MY", samples=False)] == ["icrc-family-links"]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Mon–Fri 09:00–17:00; Sat 10:00–14:00"),
    ("fr", "lun.–ven. 09:00–17:00; sam. 10:00–14:00"),
])
def test_opening_hours_read_in_the_users_language(language: str, expected: str) -> None:
    assert format_hours("Mo-Fr 09:00-17:00; Sa 10:00-14:00", language) == expected


@pytest.mark.parametrize(("field", "value", "message"), [
    ("phone", '"0212 555"', "must be international"),
    ("coordinates", "[123.0, 28.9]", "coordinates must be"),
    ("hours", '"weekdays 9 to 5"', "cannot read opening hours"),
    ("categories", "[lawyers]", "unknown categories"),
])
def test_a_broken_entry_is_reported_with_its_file_and_id(tmp_path: Path, field: str, value: str,
                                                          message: str) -> None:
    entry = {"id": "x-1", "name": "X", "categories": "[legal]", "country": "TR", "languages": "[tr]",
             "last_verified": "2026-11-21", "source": '{name: "X", url: "https://example.org/"}', field: value}
    (tmp_path / "broken.yml").write_text(
        "services:\n  - " + "\n    ".join(f"{key}: {val}" for key, val in entry.items()) + "\n")
    with pytest.raises(ContentError, match=message) as raised:
        load_directory(tmp_path)
    assert "broken.yml" in str(raised.value) and "x-1" in str(raised.value)
