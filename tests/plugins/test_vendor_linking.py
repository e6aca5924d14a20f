"""The built-in ``vendor_linking`` plugin: scored on the lab's identities, then rule by rule.

The lab's pages are rendered in-process and run through every installed plugin plus the
identifier plugins (``pgp_keys``, ``contacts``), as a crawl would; the identities are scored
with ``onionlab.crawler.scoring`` over pairs of vendor profiles. The over-merge rules, which the
lab's clean data never needs, are checked on small hand-made crawls.
"""

from __future__ import annotations

import dataclasses
import json
import random
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from onionlab.crawler.extraction.items import extract_items, link_items
from onionlab.crawler.items import Entity, Item, Vendor, VendorIdentity
from onionlab.crawler.pluginmanager import load_plugins
from onionlab.crawler.runs.rundir import RunDir, index_for
from onionlab.crawler.scoring import score_identities
from onionlab.plugins import contacts, pgp_keys, vendor_linking
from tests.support.site_pages import fetch_site, host, world_and_truth

FPR_A = "A" * 40
FPR_B = "B" * 40
MARKET, FORUM, CLONE = ("m" * 55 + "d.onion", "f" * 55 + "d.onion", "c" * 55 + "d.onion")


def _manager():
    manager = load_plugins().manager
    for module in (pgp_keys, contacts, vendor_linking):
        name = module.__name__.rsplit(".", 1)[-1]
        if not manager.has_plugin(name):
            manager.register(module, name=name)
    return manager


@cache
def crawl_items(seed: int) -> tuple[Item, ...]:
    """Every item the installed plugins extract from every truth page of ``seed``'s lab."""
    _, truth = world_and_truth(seed)
    manager = _manager()
    items: list[Item] = []
    for service in truth["services"]:
        for response in fetch_site(seed, service["name"]).values():
            items += extract_items(manager, response)
    return tuple(items)


def score(items: list[Item], truth: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """``onionlab.crawler.scoring``'s identity score of the identities linked from ``items``."""
    linked = link_items(_manager(), items)
    run = RunDir(tmp_path)
    with run.items.open("w") as out:
        for item in linked:
            out.write(json.dumps({"index": {"_index": index_for(item.kind), "_id": item.doc_id()}}))
            out.write("\n" + json.dumps(item.to_doc()) + "\n")
    return score_identities(run, truth)


def vendor(site: str, handle: str, fpr: str | None = None, btc: tuple[str, ...] = ()) -> Vendor:
    url = f"http://{site}/vendor/{handle}"
    return Vendor(site=site, handle=handle, url=url, pgp_fingerprint=fpr, btc=list(btc))


def shown(profile: Vendor, kind: str, value: str) -> Entity:
    return Entity(type=kind, value=value, url=profile.url, site=profile.site)


def groups(items: list[Item]) -> set[frozenset[tuple[str, str]]]:
    return {
        frozenset((m["site"], m["handle"]) for m in identity.members)
        for identity in vendor_linking.link(items)
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_links_the_lab_vendors_like_the_truth(seed: int, tmp_path: Path) -> None:
    _, truth = world_and_truth(seed)
    result = score(list(crawl_items(seed)), truth, tmp_path)
    assert result["expected"] > 30
    assert result["precision"] >= 0.995 and result["recall"] >= 0.995, result


@pytest.mark.parametrize("seed", [1, 2])
def test_links_by_contacts_and_wallets_when_no_key_is_known(seed: int, tmp_path: Path) -> None:
    keyless = [
        dataclasses.replace(item, pgp_fingerprint=None) if isinstance(item, Vendor) else item
        for item in crawl_items(seed)
        if not (isinstance(item, Entity) and item.type == "pgp_fingerprint")
    ]
    _, truth = world_and_truth(seed)
    result = score(keyless, truth, tmp_path)
    assert result["precision"] >= 0.995 and result["recall"] >= 0.995, result


def test_the_phishing_clone_stays_apart_and_is_flagged() -> None:
    clone, market = host(1, "market-clone"), host(1, "market")
    identities = vendor_linking.link(list(crawl_items(1)))
    of_clone = [i for i in identities if any(m["site"] == clone for m in i.members)]
    clone_vendors = [v for v in crawl_items(1) if isinstance(v, Vendor) and v.site == clone]
    assert len(of_clone) == len(clone_vendors) > 0
    for identity in of_clone:
        assert {m["site"] for m in identity.members} == {clone}
        # The look-alike with the same handle on the real market is named for an analyst.
        real = next(i for i in identities if i.identity in identity.extra["same_handle_as"])
        assert any(m["site"] == market for m in real.members)


def test_identities_are_stable_across_crawls() -> None:
    items = list(crawl_items(2))
    first = {i.identity: i.members for i in vendor_linking.link(items)}
    random.Random(7).shuffle(items)
    again = {i.identity: i.members for i in vendor_linking.link(items + items[:50])}
    assert first == again
    assert all(name.startswith("pgp_fingerprint:") for name in first)


def test_a_shared_key_links_and_names_the_identity() -> None:
    a, b = vendor(MARKET, "Snow", FPR_B), vendor(FORUM, "snow_official")
    c = vendor(FORUM, "Other", FPR_A)
    [other, identity] = vendor_linking.link([a, b, c, shown(b, "pgp_fingerprint", FPR_B)])
    assert identity.identity == f"pgp_fingerprint:{FPR_B}"
    assert identity.members == [
        {"site": FORUM, "handle": "snow_official"},
        {"site": MARKET, "handle": "Snow"},
    ]
    assert identity.handles == ["Snow", "snow_official"]
    assert identity.pgp_fingerprints == [FPR_B]
    assert other.identity == f"pgp_fingerprint:{FPR_A}"


def test_a_contact_or_wallet_links_profiles_and_the_strongest_names_them() -> None:
    a = vendor(MARKET, "Snow", btc=("1Wallet",))
    b, c = vendor(FORUM, "snow"), vendor(CLONE, "Elsewhere", btc=("1Wallet",))
    items = [a, b, c, shown(a, "telegram", "snow_tg"), shown(b, "telegram", "snow_tg")]
    items.append(shown(b, "session", "05" + "1" * 64))
    [identity] = vendor_linking.link(items)
    assert len(identity.members) == 3
    assert identity.identity == "session:05" + "1" * 64
    assert identity.contacts == [
        {"type": "session", "value": "05" + "1" * 64},
        {"type": "telegram", "value": "snow_tg"},
    ]
    assert identity.wallets == [{"type": "btc", "value": "1Wallet"}]


def test_values_several_profiles_of_one_site_show_link_nobody() -> None:
    # The market's escrow wallet and support contact on every profile; the forum quotes them.
    a, b = vendor(MARKET, "One", btc=("1Escrow",)), vendor(MARKET, "Two", btc=("1Escrow",))
    c = vendor(FORUM, "Three", btc=("1Escrow",))
    items = [a, b, c, *(shown(v, "jabber", "support@market.example") for v in (a, b, c))]
    assert groups(items) == {
        frozenset({(MARKET, "One")}),
        frozenset({(MARKET, "Two")}),
        frozenset({(FORUM, "Three")}),
    }


def test_a_contact_shown_beside_different_keys_links_nobody() -> None:
    # A clone that kept the vendor's Telegram handle but swapped the key and wallet: which
    # of the two a key-less profile with that handle belongs to, the handle cannot say.
    real, fake = vendor(MARKET, "Snow", FPR_A), vendor(CLONE, "Snow", FPR_B)
    keyless = vendor(FORUM, "snow")
    items = [real, fake, keyless, *(shown(v, "telegram", "snow_tg") for v in (real, fake, keyless))]
    identities = vendor_linking.link(items)
    assert groups(items) == {
        frozenset({(MARKET, "Snow")}),
        frozenset({(CLONE, "Snow")}),
        frozenset({(FORUM, "snow")}),
    }
    for identity in identities:
        assert identity.extra["conflicts"] == [{"type": "telegram", "value": "snow_tg"}]


def test_a_key_less_profile_joins_the_only_key_its_contact_is_shown_with() -> None:
    real, keyless = vendor(MARKET, "Snow", FPR_A), vendor(FORUM, "snow")
    items = [real, keyless, *(shown(v, "jabber", "snow@chat.example") for v in (real, keyless))]
    [identity] = vendor_linking.link(items)
    assert identity.identity == f"pgp_fingerprint:{FPR_A}"
    assert len(identity.members) == 2 and not identity.extra


def test_only_identifiers_on_the_profile_page_count() -> None:
    a, b = vendor(MARKET, "One"), vendor(FORUM, "Two")
    elsewhere = Entity(type="telegram", value="shared_tg", url=f"http://{MARKET}/", site=MARKET)
    own_onion = shown(a, "onion", "m" * 55 + "d")
    items = [a, b, elsewhere, own_onion, shown(b, "telegram", "shared_tg")]
    items.append(shown(b, "onion", "m" * 55 + "d"))
    assert len(groups(items)) == 2


def test_a_profile_without_identifiers_is_its_own_identity() -> None:
    [identity] = vendor_linking.link([vendor(MARKET, "Quiet")])
    assert identity.identity == f"vendor:{MARKET}/quiet"
    assert isinstance(identity, VendorIdentity) and not identity.extra


def test_answers_nothing_without_vendors() -> None:
    page = Entity(type="telegram", value="someone", url=f"http://{MARKET}/", site=MARKET)
    assert vendor_linking.onionlab_link_items([page]) is None


def test_a_key_less_profile_between_two_keys_joins_neither_in_any_order() -> None:
    # Telegram handle shared with one key's profile, e-mail with another's: no way to tell.
    real, other = vendor(MARKET, "Snow", FPR_A), vendor(CLONE, "Snow", FPR_B)
    between = vendor(FORUM, "snow")
    items: list[Item] = [real, other, between]
    items += [shown(v, "telegram", "snow_tg") for v in (real, between)]
    items += [shown(v, "email", "snow@mail.example") for v in (other, between)]
    expected = {frozenset({(MARKET, "Snow")}), frozenset({(CLONE, "Snow")})}
    expected.add(frozenset({(FORUM, "snow")}))
    for order in range(4):
        random.Random(order).shuffle(items)
        assert groups(items) == expected
    [alone] = [i for i in vendor_linking.link(items) if i.members[0]["site"] == FORUM]
    assert alone.identity == "email:snow@mail.example"
    assert alone.extra["conflicts"] == [
        {"type": "email", "value": "snow@mail.example"},
        {"type": "telegram", "value": "snow_tg"},
    ]
