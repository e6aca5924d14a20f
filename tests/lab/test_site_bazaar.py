"""Tests of the ``bazaar`` site kind: generator, ground truth, served app and signed files.

The app is served in-process (aiohttp's TestServer). Identifiers are re-found in the HTML
with regexes and validated with independent code (base58, bip-utils, hashlib for onions),
and the signed mirror list and canary are checked with the ``gpg`` binary.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from onionlab.lab.sites.bazaar import PROTECTED_PREFIXES
from onionlab.lab.sites.bazaar.render import render_site
from onionlab.lab.sites.signed_files import admin_key, signed_files
from onionlab.lab.world.kinds import bazaar as K
from onionlab.lab.world.model import Service, World
from onionlab.lab.world.truth import ground_truth
from tests.support.determinism import assert_rebuilds_identically
from tests.support.gpg import GnuPG, needs_gpg
from tests.support.html_extract import parse
from tests.support.identifiers import by_path, found_identifiers, normalised
from tests.support.site_app import Fetched, crawl, fetch_pages
from tests.support.validators import onion_ok, valid

SEED = 5
NAME = "bazaar"


@pytest.fixture(scope="module")
def served(world: World, svc: Service) -> Fetched:
    return fetch_pages(world, svc, [p.path for p in K.pages(svc)])


# --- tests -----------------------------------------------------------------------------------


def test_size_and_shape_at_scale_one(world: World, svc: Service):
    assert svc.kind == "bazaar" and svc.title != world.service("market").title
    assert len(svc.listings) == 300
    assert len(svc.vendors) == 25
    assert 350 <= len(K.pages(svc)) <= 450
    assert svc.per_page == K.PER_PAGE
    # The same people sell on the market, under the same key.
    market = {v.identity: v for v in world.service("market").vendors}
    shared = [v for v in svc.vendors if v.identity in market]
    assert shared
    assert all(v.pgp.fingerprint == market[v.identity].pgp.fingerprint for v in shared)
    # One mirror, a different valid onion.
    assert len(svc.mirrors) == 1 and svc.mirrors[0] != svc.onion
    assert onion_ok(svc.mirrors[0].removesuffix(".onion"))


def test_every_page_is_served(svc: Service, served: Fetched):
    for page in K.pages(svc):
        status, ctype, text = served[page.path]
        assert status == 200, page
        if page.kind == "text":
            assert ctype == "text/plain; charset=utf-8"
        else:
            assert ctype == "text/html; charset=utf-8"
            assert text.startswith("<!DOCTYPE html>")
            assert "<script" not in text.lower()


def test_crawl_from_home_reaches_exactly_the_truth_pages(svc: Service, served: Fetched):
    assert crawl(served) == {p.path for p in K.pages(svc)}


def test_identifiers_are_exactly_where_truth_says(svc: Service, served: Fetched):
    per_page = by_path(K.occurrences(svc))
    decoy_values = {d.value for d in K.decoys(svc)}
    for page in K.pages(svc):
        found = found_identifiers(served[page.path][2])
        assert found == normalised(per_page.get(page.path, set())), page.path
        assert not decoy_values & {v for _, v in found}
    for occ in K.occurrences(svc):
        assert occ.value in served[occ.path][2], occ


def test_truth_covers_every_shown_wallet_and_contact(world: World, svc: Service):
    people = {p.id: p for p in world.identities}
    occ = {(o.type, o.value, o.path) for o in K.occurrences(svc)}
    for ven in svc.vendors:
        person = people[ven.identity]
        path = K.store_path(ven.handle)
        for kind in ("btc", "xmr"):
            for value in person.wallet(kind):
                assert (kind, value, path) in occ
        for kind, value in person.contacts:
            assert (kind, value, path) in occ
    kinds = {o.type for o in K.occurrences(svc)}
    assert {"onion", "btc", "xmr", "pgp_fingerprint", "email", "telegram"} <= kinds


def test_decoys_are_shown_and_fail_validation(svc: Service, served: Fetched):
    decoys = K.decoys(svc)
    kinds = {d.type for d in decoys}
    assert {"btc", "xmr", "onion"} <= kinds
    for d in decoys:
        assert d.value in served[d.path][2], d
        assert not valid(d.type, d.value), d
    # An old address is marked as such in the wallet table.
    old = next(d for d in decoys if d.type == "btc")
    x = parse(served[old.path][2])
    assert old.value in [t for t in x.text["addr-value"]]
    assert any(a.get("data-chain") == "btc" for a in x.attrs["addr-old"])


def test_listing_pages_carry_the_truth_fields(world: World, svc: Service, served: Fetched):
    truth = [x for x in ground_truth(world)["listings"] if x["site"] == "bazaar"]
    assert len(truth) == len(svc.listings)
    for lst in truth:
        path = urlsplit(lst["url"]).path
        assert path == K.item_path(lst["listing_id"])
        x = parse(served[path][2])
        assert x.attrs["bz-item"][0]["data-item"] == lst["listing_id"]
        assert x.text["bz-item-title"] == [lst["title"]]
        assert x.text["f-id"] == [lst["listing_id"]]
        assert x.text["f-seller"][0].startswith(lst["vendor"] + " Level ")
        assert x.text["f-dept"] == [lst["category"]]
        assert x.text["f-product"] == [lst["substance"]]
        assert x.text["f-from"] == [lst["ships_from"]]
        assert x.text["f-to"] == [lst["ships_to"]]
        assert x.attrs["f-pay"][0]["data-escrow"] == lst["escrow"]
        assert x.text["t-qty"] == [f"{t['quantity']} g" for t in lst["tiers"]]
        for cur in ("usd", "eur", "btc", "xmr"):
            assert x.text[f"t-{cur}"] == [t[f"price_{cur}"] for t in lst["tiers"]]
        first = lst["tiers"][0]
        assert (lst["weight_g"], lst["price_usd"], lst["price_btc"]) == (
            first["quantity"], first["price_usd"], first["price_btc"],
        )  # fmt: skip
        assert lst["weight_g"] in lst["title"]
        assert K.store_path(lst["vendor"]) in x.links


def test_prices_follow_the_world_rates(world: World, svc: Service):
    from decimal import ROUND_HALF_UP, Decimal

    from onionlab.lab.world.vocab import rates

    btc, table = Decimal(world.btc_usd), rates()
    for lst in ground_truth(world)["listings"]:
        if lst["site"] != "bazaar":
            continue
        usd = Decimal(lst["price_usd"])
        assert Decimal(lst["price_btc"]) == (usd / btc).quantize(Decimal("1e-8"), ROUND_HALF_UP)
        eur = (usd / table.usd["EUR"]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert Decimal(lst["price_eur"]) == eur
        assert re.fullmatch(r"\d+\.\d{6}", lst["price_xmr"])
        # Quantity discount: the price per gram falls with the tier.
        per_g = [Decimal(t["price_usd"]) / Decimal(t["quantity"]) for t in lst["tiers"]]
        assert per_g == sorted(per_g, reverse=True)


def test_store_pages_show_key_wallets_contacts(world: World, svc: Service, served: Fetched):
    truth = {v["handle"]: v for v in ground_truth(world)["vendors"] if v["site"] == "bazaar"}
    assert set(truth) == {v.handle for v in svc.vendors}
    content = K.content_of(svc)
    for ven in svc.vendors:
        t = truth[ven.handle]
        x = parse(served[K.store_path(ven.handle)][2])
        assert x.text["bz-store-name"] == [ven.handle]
        assert x.text["bz-fpr"] == [t["pgp_fingerprint"]]
        assert unescape(x.text["bz-armor"][0]) + "\n" == ven.pgp.armored
        store = content.store(ven.handle)
        live = [a for a in x.attrs["addr"] if "addr-old" not in (a.get("class") or "")]
        chains = [a["data-chain"] for a in live]
        assert chains == ["btc"] * len(t["btc"]) + ["xmr"] * len(t["xmr"])
        shown = x.text["addr-value"]
        assert sorted(shown[: len(live)]) == sorted(t["btc"] + t["xmr"])
        assert shown[len(live) :] == [v for _, v in store.old_wallets]
        contacts = [c["value"] for c in t["contacts"]]
        assert [v.lstrip("@") for v in x.text.get("ct-value", [])] == contacts
        assert K.reviews_path(ven.handle) in x.links
        reviews = parse(served[K.reviews_path(ven.handle)][2])
        assert len(reviews.attrs["rv"]) == len(store.reviews) >= 4


def test_department_pagination(svc: Service, served: Fetched):
    for cat in svc.categories:
        ids: list[str] = []
        number, path = 1, K.dept_path(cat.slug, 1)
        while True:
            x = parse(served[path][2])
            assert x.text["bz-dept-title"] == [cat.name]
            cards = [a["data-item"] for a in x.attrs.get("bz-card", [])]
            assert 1 <= len(cards) <= svc.per_page
            ids += cards
            assert x.text["pg-on"] == [str(number)]
            nxt = x.attrs.get("pg-next")
            if not nxt:
                break
            number += 1
            path = nxt[0]["href"]
            assert path == K.dept_path(cat.slug, number)
        mine = {lst.listing_id for lst in svc.listings if lst.category == cat.slug}
        assert sorted(ids) == sorted(mine)


@needs_gpg
def test_signed_files_verify_with_gpg(world: World, svc: Service, served: Fetched, tmp_path):
    key, _ = admin_key(world, svc)
    assert key == K.content_of(svc).admin_key
    gpg = GnuPG(tmp_path / "gnupg")
    gpg.import_keys(served[K.PGP_TXT][2])
    for path in (K.MIRRORS_TXT, K.CANARY_TXT):
        out = gpg.verify(served[path][2])
        assert out.returncode == 0, out.stderr
        assert out.signer == key.fingerprint
    mirrors = served[K.MIRRORS_TXT][2]
    body = mirrors.split("\n\n", 1)[1].split("-----BEGIN PGP SIGNATURE-----")[0]
    lines = [ln for ln in body.splitlines() if ln.startswith("http://")]
    assert lines == [f"http://{onion}" for _, onion in svc.addresses]
    assert all(ln.startswith("#") or ln.startswith("http://") or not ln for ln in body.splitlines())
    canary = served[K.CANARY_TXT][2]
    assert re.search(r"^Date: \d{4}-\d{2}-\d{2}$", canary, re.M)
    assert re.search(r"^Block hash: [0-9a-f]{64}$", canary, re.M)

    # The phishing clone's files are signed by another key: they do not verify here.
    clone = world.service("market-clone")
    market = world.service("market")
    clone_key, clone_secret = admin_key(world, clone)
    assert clone_key.fingerprint != admin_key(world, market)[0].fingerprint
    assert clone_key.uid == admin_key(world, market)[0].uid  # it imitates the name
    out = gpg.verify(signed_files(world, clone, clone_key, clone_secret)[K.MIRRORS_TXT])
    assert out.returncode != 0 and "VALIDSIG" not in out.stdout


@needs_gpg
def test_market_files_verify_with_its_own_key(world: World, tmp_path):
    market = world.service("market")
    key, secret = admin_key(world, market)
    files = signed_files(world, market, key, secret)
    gpg = GnuPG(tmp_path / "gnupg")
    gpg.import_keys(files["/pgp.txt"])
    assert gpg.verify(files["/canary.txt"]).returncode == 0


def test_mirror_serves_the_same_site(world: World, svc: Service, served: Fetched):
    paths = ["/", K.SECURITY_PATH, K.item_path(svc.listings[0].listing_id)]
    via_mirror = fetch_pages(world, svc, paths, host=svc.mirrors[0])
    for path in paths:
        assert via_mirror[path] == served[path]


def test_unknown_paths_get_the_branded_404(world: World, svc: Service):
    missing = ["/nope", "/item/1", "/store/nobody", "/c/stimulants/99", "/c/stimulants/0",
               "/c/stimulants", "/item/", "/store/x/reviews/",
               "/c/stimulants/1?page=2"]  # fmt: skip
    got = fetch_pages(world, svc, missing)
    for path, (status, ctype, text) in got.items():
        assert status == 404, path
        assert ctype == "text/html; charset=utf-8"
        assert "Page not found" in text and svc.title in text


def test_protected_prefixes_cover_items_and_stores_only(svc: Service):
    for page in K.pages(svc):
        protected = page.path.startswith(PROTECTED_PREFIXES)
        assert protected == (page.kind in ("listing", "vendor", "reviews")), page


def test_deterministic(world: World, svc: Service):
    def bazaar_truth(w: World, _: Service) -> str:
        t = ground_truth(w)
        keep = {k: [x for x in v if isinstance(x, dict) and x.get("site") == "bazaar"]
                for k, v in t.items() if k in ("listings", "vendors")}  # fmt: skip
        keep["pages"] = [p for p in t["pages"] if svc.onion in p]
        return json.dumps(keep, sort_keys=True)

    assert_rebuilds_identically(world, SEED, "bazaar", bazaar_truth, render_site)


def test_module_layers():
    files = sorted(Path(K.__file__).parent.glob("*.py"))  # the kind is a package
    source = "\n".join(f.read_text(encoding="utf-8") for f in files)
    assert not re.search(r"^(from|import) lab\.sites", source, re.M)  # world never imports sites
    assert "import random\n" in source and "random.random(" not in source
