"""ECS ``geo`` fields for a listing, from the small gazetteer shipped beside this module.

A city shop's listing is placed at its city (``geo.city_name``, ``geo.location``); a market
listing at the rough centre of the country it ships from. Depends on the standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Place:
    city_name: str | None
    country_iso_code: str
    country_name: str
    lat: float
    lon: float


@cache
def _gazetteer() -> tuple[dict[str, Place], dict[str, Place]]:
    data = json.loads(
        resources.files("onionlab.crawler.sinks.elastic")
        .joinpath("gazetteer.json")
        .read_text("utf-8")
    )
    countries: dict[str, Place] = {}
    for code, entry in data["countries"].items():
        place = Place(None, code, entry["name"], entry["lat"], entry["lon"])
        for name in (code, entry["name"], *entry["aliases"]):
            countries[name.casefold()] = place
    cities: dict[str, Place] = {}
    for name, entry in data["cities"].items():
        country = countries[entry["country"].casefold()]
        place = Place(
            name, country.country_iso_code, country.country_name, entry["lat"], entry["lon"]
        )
        for alias in (name, *entry["aliases"]):
            cities[alias.casefold()] = place
    return cities, countries


def city(name: str | None) -> Place | None:
    """The gazetteer's city called ``name`` (English or Russian, any case), if it knows it."""
    return _gazetteer()[0].get(name.strip().casefold()) if name else None


def country(name: str | None) -> Place | None:
    """The gazetteer's country called ``name`` (name, alias or ISO code), if it knows it."""
    return _gazetteer()[1].get(name.strip().casefold()) if name else None


def listing_geo(extra: dict[str, Any], ships_from: str | None) -> dict[str, Any] | None:
    """The ``geo`` object for a listing: its city if it has one, else its shipping country."""
    city_name = extra.get("city") or extra.get("city_ru")
    place = city(city_name) or country(extra.get("country")) or country(ships_from)
    if place is None:
        return {"city_name": city_name} if city_name else None
    geo: dict[str, Any] = {
        "country_iso_code": place.country_iso_code,
        "country_name": place.country_name,
        "location": {"lat": place.lat, "lon": place.lon},
    }
    if place.city_name:
        geo["city_name"] = place.city_name
    elif city_name:  # a city the gazetteer does not know: named, placed at its country
        geo["city_name"] = city_name
    return geo
