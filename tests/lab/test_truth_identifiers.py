"""Every identifier the ground truth lists validates, and every decoy fails, checked with
independent reference code (tests/support/validators.py), across the whole lab."""

from __future__ import annotations

from collections import Counter

import pytest

from onionlab.lab.world import build_world
from onionlab.lab.world.truth import ground_truth
from tests.support.validators import valid

CRYPTO = ("btc", "ltc", "xmr", "eth", "trx")


@pytest.fixture(scope="module", params=[1, 2])
def truth(request: pytest.FixtureRequest) -> dict:
    return ground_truth(build_world(request.param))


def test_every_identifier_in_truth_validates(truth: dict) -> None:
    invalid = [
        (i["type"], i["value"]) for i in truth["identifiers"] if not valid(i["type"], i["value"])
    ]
    assert invalid == []
    kinds = Counter(i["type"] for i in truth["identifiers"])
    # The lab shows every entity type the analysts pivot on.
    assert set(kinds) >= {
        *CRYPTO,
        "onion",
        "pgp_fingerprint",
        "email",
        "telegram",
        "jabber",
        "session",
    }


def test_every_decoy_fails_validation_and_is_never_an_identifier(truth: dict) -> None:
    assert truth["decoys"]
    accepted = [(d["type"], d["value"]) for d in truth["decoys"] if valid(d["type"], d["value"])]
    assert accepted == []
    real = {(i["type"], i["value"]) for i in truth["identifiers"]}
    assert not real & {(d["type"], d["value"]) for d in truth["decoys"]}
    assert {d["type"] for d in truth["decoys"]} >= {"btc", "xmr", "onion"}


def test_identifier_pages_are_pages_of_the_lab(truth: dict) -> None:
    pages = set(truth["pages"])
    for entry in truth["identifiers"] + truth["decoys"]:
        assert entry["pages"] and set(entry["pages"]) <= pages, entry


def test_vendor_identities_link_across_sites(truth: dict) -> None:
    multi_site = [p for p in truth["identities"] if len(p["handles"]) >= 2]
    assert multi_site, "no vendor sells on more than one site"
    varied = [p for p in multi_site if len(set(p["handles"].values())) > 1]
    assert varied, "no vendor uses a varied handle on another site"
    by_fpr = Counter(v["pgp_fingerprint"] for v in truth["vendors"] if v.get("identity"))
    assert max(by_fpr.values()) >= 2
