"""Tests of the deterministic world generator and its ground-truth export.

Independent references: the ``gpg`` binary and ``pgpy`` for the OpenPGP keys, the
``base58`` package for BTC addresses, hashlib/base64 for the onion checksum.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import base58
import pytest

from onionlab.lab.world import build_world
from onionlab.lab.world.btc import compressed_pubkey, hash160, ripemd160_pure
from onionlab.lab.world.data_files import load_data
from onionlab.lab.world.pgp import armor
from onionlab.lab.world.truth import ground_truth, truth_json
from tests.support.site_pages import site_truth
from tests.support.validators import onion_ok

SEED = 1
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world():
    return build_world(SEED)


@pytest.fixture(scope="module")
def truth(world):
    return ground_truth(world)


@pytest.fixture(scope="module")
def market_truth(truth):
    """The ground truth of the ``market`` service alone (the world has several sites)."""
    return site_truth(truth, "market")


def test_same_seed_gives_byte_identical_truth(world):
    again = build_world(SEED)
    assert again == world
    first, second = truth_json(world), truth_json(again)
    assert first.encode() == second.encode()
    assert json.loads(first) == ground_truth(world)


def test_truth_bytes_identical_across_processes(world):
    """No dependence on hash randomisation or anything else that varies per process."""
    code = (
        "import hashlib, sys; from onionlab.lab.world import build_world; "
        "from onionlab.lab.world.truth import truth_json; "
        f"sys.stdout.write(hashlib.sha256(truth_json(build_world({SEED})).encode()).hexdigest())"
    )
    expected = hashlib.sha256(truth_json(world).encode()).hexdigest()
    for hashseed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": hashseed},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert out.stdout == expected


def test_other_seed_gives_other_world(truth):
    other = ground_truth(build_world(SEED + 1))
    assert other["services"][0]["onion"] != truth["services"][0]["onion"]
    # (Some city shops show no key: their fingerprint is None in both worlds.)
    assert {v["pgp_fingerprint"] for v in other["vendors"] if v["pgp_fingerprint"]}.isdisjoint(
        v["pgp_fingerprint"] for v in truth["vendors"] if v["pgp_fingerprint"]
    )
    assert {lst["listing_id"] for lst in other["listings"]} != {
        lst["listing_id"] for lst in truth["listings"]
    }


def test_generator_uses_no_global_randomness(world):
    import random

    random.seed(12345)
    state = random.getstate()
    build_world(SEED + 5)
    assert random.getstate() == state


def test_truth_follows_the_contract(market_truth):
    truth = market_truth
    assert set(truth) == {
        "schema", "seed", "scale", "services", "categories", "identities", "vendors",
        "listings", "identifiers", "decoys", "pages",
    }  # fmt: skip
    assert truth["schema"] == "onionlab-truth/1"
    assert truth["seed"] == SEED
    svc = next(s for s in truth["services"] if s["name"] == "market")
    assert set(svc) == {"name", "kind", "title", "onion", "url", "mirrors", "clone_of"}
    assert (svc["name"], svc["kind"]) == ("market", "market")
    assert re.fullmatch(r"[a-z2-7]{55}d\.onion", svc["onion"])
    assert svc["url"] == f"http://{svc['onion']}/"
    for cat in truth["categories"]:
        assert set(cat) == {"site", "slug", "name"}
    for ven in truth["vendors"]:
        assert set(ven) == {"site", "handle", "identity", "url", "pgp_fingerprint", "btc"}
        assert re.fullmatch(r"[0-9A-F]{40}", ven["pgp_fingerprint"])
        assert ven["url"] == f"http://{svc['onion']}/vendor/{ven['handle']}"
    fields = {
        "site", "listing_id", "url", "title", "vendor", "category", "substance", "weight_g",
        "price_usd", "price_btc", "ships_from",
    }  # fmt: skip
    for lst in truth["listings"]:
        assert set(lst) == fields
    for ident in truth["identifiers"]:
        assert set(ident) == {"type", "value", "pages"}
        assert ident["type"] in {"btc", "pgp_fingerprint", "onion"}
        assert ident["pages"] == sorted(set(ident["pages"]))
        assert set(ident["pages"]) <= set(truth["pages"])
    for url in truth["pages"]:
        assert re.fullmatch(r"http://[a-z2-7]{56}\.onion/[^#\s]*", url)
    # Stable ordering.
    assert truth["pages"] == sorted(truth["pages"])
    assert truth["listings"] == sorted(truth["listings"], key=lambda x: x["listing_id"])
    assert truth["vendors"] == sorted(truth["vendors"], key=lambda x: x["handle"])


def test_onion_address_checksum(market_truth):
    truth = market_truth
    onion = truth["services"][0]["onion"].removesuffix(".onion")
    assert onion_ok(onion)  # v3: version byte 3 and the SHA3-256 checksum
    idents = [i for i in truth["identifiers"] if i["type"] == "onion"]
    assert [i["value"] for i in idents] == [onion]


def test_world_size_and_shape(market_truth):
    truth = market_truth
    assert len(truth["listings"]) >= 60
    assert len(truth["categories"]) >= 3
    assert 10 <= len(truth["vendors"]) <= 12
    assert len({lst["listing_id"] for lst in truth["listings"]}) == len(truth["listings"])
    handles = {v["handle"] for v in truth["vendors"]}
    cat_names = {c["name"] for c in truth["categories"]}
    vocab = load_data("substances.json")["substances"]
    canonical = {s["canonical"] for s in vocab}
    assert len(canonical) >= 12
    for lst in truth["listings"]:
        assert lst["vendor"] in handles
        assert lst["category"] in cat_names
        assert lst["substance"] in canonical
    # Every vendor sells something, every category has something.
    assert {lst["vendor"] for lst in truth["listings"]} == handles
    assert {lst["category"] for lst in truth["listings"]} == cat_names


def test_listing_number_formats_and_btc_conversion(world, market_truth):
    truth = market_truth
    rate = Decimal(world.btc_usd)
    for lst in truth["listings"]:
        assert re.fullmatch(r"\d+(\.\d+)?", lst["weight_g"]), lst
        assert re.fullmatch(r"\d+\.\d{2}", lst["price_usd"]), lst
        assert re.fullmatch(r"\d+\.\d{8}", lst["price_btc"]), lst
        expected = (Decimal(lst["price_usd"]) / rate).quantize(Decimal("1e-8"), ROUND_HALF_UP)
        assert Decimal(lst["price_btc"]) == expected
        assert lst["weight_g"] in lst["title"]


def test_scale_multiplies_listings():
    assert len(build_world(SEED, scale=0.5).services[0].listings) == 36
    big = build_world(SEED, scale=2).services[0]
    assert len(big.listings) == 144
    assert len(big.vendors) == 22


def test_btc_addresses_are_valid_base58check(market_truth):
    # One site: across sites the same person (identity) shows the same wallet on purpose.
    truth = market_truth
    addresses = [a for v in truth["vendors"] for a in v["btc"]]
    assert addresses
    assert len(set(addresses)) == len(addresses)
    for addr in addresses:
        raw = base58.b58decode_check(addr)  # raises on a bad checksum
        assert len(raw) == 21 and raw[0] == 0x00
        assert len(base58.b58decode(addr)) == 25
        assert addr.startswith("1") and 26 <= len(addr) <= 34
    idents = {i["value"] for i in truth["identifiers"] if i["type"] == "btc"}
    assert idents == set(addresses)


def test_btc_key_derivation_matches_known_vector():
    # Private key 1 → the well-known compressed-key address of the generator point.
    payload = b"\x00" + hash160(compressed_pubkey((0).to_bytes(32, "big")))
    assert base58.b58encode_check(payload).decode() == "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
    for data in (b"", b"abc", b"x" * 55, b"x" * 56, b"x" * 64, bytes(range(256)) * 3):
        try:
            reference = hashlib.new("ripemd160", data).digest()
        except ValueError:
            pytest.skip("hashlib has no ripemd160 to compare the fallback with")
        assert ripemd160_pure(data) == reference


def _gpg(home: Path, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--no-autostart", *args],
        input=data,
        capture_output=True,
        timeout=30,
    )


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg binary not installed")
def test_pgp_keys_import_and_verify_with_gpg(world, market_truth, tmp_path):
    truth = market_truth
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    vendors = world.services[0].vendors
    blob = "".join(v.pgp.armored for v in vendors).encode()
    imported = _gpg(home, "--import", data=blob)
    assert imported.returncode == 0, imported.stderr.decode()
    listing = _gpg(home, "--with-colons", "--fingerprint", "--check-sigs")
    assert listing.returncode == 0, listing.stderr.decode()
    records = [line.split(":") for line in listing.stdout.decode().splitlines()]
    fprs = [r[9] for r in records if r[0] == "fpr"]
    assert sorted(fprs) == sorted(v["pgp_fingerprint"] for v in truth["vendors"])
    pubs = [r for r in records if r[0] == "pub"]
    assert len(pubs) == len(vendors)
    for pub in pubs:
        assert pub[3] == "22"  # EdDSA
        assert pub[1] not in {"i", "r", "e"}  # not invalid/revoked/expired
    sigs = [r for r in records if r[0] == "sig"]
    assert len(sigs) == len(vendors)
    assert all(s[1] == "!" for s in sigs), sigs  # "!" = good signature
    assert all(s[10] == "13x" for s in sigs)  # positive certification, exportable
    uids = sorted(r[9] for r in records if r[0] == "uid")
    assert uids == sorted(v.pgp.uid for v in vendors)
    by_fpr = {r[9]: r for r in records if r[0] == "fpr"}
    assert set(by_fpr) == {v.pgp.fingerprint for v in vendors}


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg binary not installed")
def test_gpg_rejects_a_tampered_key(world, tmp_path):
    """Negative control: the check above would fail for a key with a broken signature."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    key = world.services[0].vendors[0].pgp
    lines = key.armored.splitlines()
    body = base64.b64decode("".join(lines[2:-2]))  # between the blank line and "=CRC"
    broken = body[:-5] + bytes([body[-5] ^ 0x01]) + body[-4:]  # flip a bit of S
    result = _gpg(home, "--import", data=armor(broken).encode())
    assert b"bad signature" in result.stderr, result.stderr.decode()
    out = _gpg(home, "--with-colons", "--check-sigs").stdout.decode()
    assert key.fingerprint not in out
    # …while the untouched key still imports.
    assert _gpg(home, "--import", data=key.armored.encode()).returncode == 0
    assert key.fingerprint in _gpg(home, "--with-colons", "--fingerprint").stdout.decode()


def test_pgp_keys_parse_and_verify_with_pgpy(world):
    pgpy = pytest.importorskip("pgpy")
    for vendor in world.services[0].vendors:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key, _ = pgpy.PGPKey.from_blob(vendor.pgp.armored)
            uid = key.userids[0]
            assert key.fingerprint.replace(" ", "") == vendor.pgp.fingerprint
            assert key.key_algorithm == pgpy.constants.PubKeyAlgorithm.EdDSA
            assert uid.userid == vendor.pgp.uid
            assert bool(key.verify(uid, uid.selfsig))
            assert int(key.created.timestamp()) == vendor.pgp.created
