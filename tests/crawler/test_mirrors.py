"""A site that moves to its official mirror mid-crawl: detected, followed, nothing lost.

The mirror list is the dark.fail convention (``/mirrors.txt``, clearsigned with the key the
site publishes at ``/pgp.txt``; here honestly signed with an Ed25519 key made by the lab's
OpenPGP code). The crawl runs through the recording SOCKS5 server: the site's main address
answers a few CONNECTs, then fails with Tor's onion errors, while its mirror (the same site
behind another onion address, same key) keeps answering.

Then the attack of issue #10 (defect 5): a hostile site names another, differently keyed
site as its mirror and goes dark. Its list must not be followed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from onionlab.crawler.mirrors import parse_mirror_list, with_host
from onionlab.crawler.runs.rundir import RunDir
from onionlab.lab.world.pgp import clearsign, make_key
from tests.crawler.test_liveness import VanishingErrors
from tests.support.gpg import needs_gpg
from tests.support.sites import LinkedSite
from tests.support.socks5 import FakeTorSocks

MAIN = "q" * 55 + "d.onion"
MIRROR = "r" * 55 + "d.onion"
PAGES = 40
MAIN_ANSWERS = 8  # CONNECTs to the main address that get through before it moves

SECRET = bytes(range(32))
KEY = make_key(SECRET, "Example Market Admin", created=1_600_000_000)
LIST_BODY = f"""# Example Market - official mirrors. Anything else is phishing.
-- (a line starting with a dash: clearsigning escapes it)
http://{MAIN}
http://{MIRROR}/
http://example.com
"""
SIGNED = clearsign(SECRET, KEY, LIST_BODY, 1_600_000_100)
SITE_FILES = {"/pgp.txt": KEY.armored}
FORGED = f"""-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

http://{MAIN}
http://{MIRROR}
-----BEGIN PGP SIGNATURE-----

iHUEARYIAB0WIQQ=
=abcd
-----END PGP SIGNATURE-----
"""


def test_a_signed_mirror_list_names_its_onion_hosts() -> None:
    assert "\n- --" in SIGNED  # the dash-escaped line
    listed = parse_mirror_list(SIGNED.replace(f"http://{MIRROR}/", f"- http://{MIRROR}/"))
    assert listed.hosts == (MAIN, MIRROR)  # dash-escaped line read; clearnet line ignored
    assert listed.signed


def test_an_unsigned_list_is_read_and_said_to_be_unsigned() -> None:
    listed = parse_mirror_list(f"# mirrors\nhttp://{MIRROR.upper()}\nhttp://{MIRROR}\nnonsense\n")
    assert listed.hosts == (MIRROR,) and not listed.signed


def test_with_host_keeps_path_query_and_port() -> None:
    assert with_host(f"http://{MAIN}:8080/a?b=1", MIRROR) == f"http://{MIRROR}:8080/a?b=1"


def crawl_in_subprocess(
    start: str, routes: dict[str, int], errors: VanishingErrors, run_dir: Path
) -> tuple[dict[str, Any], list[Any]]:
    """Crawl ``http://START/`` in a fresh interpreter through a recording SOCKS server that
    routes ``routes`` and fails as ``errors`` says; the crawl's summary and the SOCKS records."""
    with FakeTorSocks(routes=routes) as socks:
        socks.config.errors = errors
        script = textwrap.dedent(
            f"""
            import json
            from pathlib import Path
            from onionlab.crawler.runner import CrawlConfig, run_crawl
            config = CrawlConfig(start_urls=["http://{start}/"], per_site_concurrency=2,
                                 socks="127.0.0.1:{socks.port}", progress=False,
                                 run_dir=Path({str(run_dir)!r}))
            print(json.dumps(run_crawl(config)))
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
        )
        records = socks.records
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), records


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run_dir = tmp_path_factory.mktemp("moved")
    with LinkedSite(pages=PAGES, mirrors_txt=SIGNED, files=SITE_FILES) as site:
        errors = VanishingErrors({}, host=MAIN, after=MAIN_ANSWERS)
        routes = {MAIN: site.port, MIRROR: site.port}
        summary, records = crawl_in_subprocess(MAIN, routes, errors, run_dir)
    run = RunDir(run_dir)
    return {
        "summary": summary,
        "sites": json.loads((run_dir / "sites.json").read_text()),
        "pages": [d["url"] for d in run.documents("page") if d["status"] == 200],
        "stats": json.loads(run.stats.read_text()),
        "connects": [r.host for r in records],
        "after_switch": errors.after_switch,
    }


@needs_gpg
def test_the_move_is_detected_and_reported(moved: dict[str, Any]) -> None:
    main = moved["sites"][MAIN]
    assert main["state"] == "moved" and main["moved_to"] == MIRROR
    assert main["mirrors"] == [MIRROR]  # learnt from the site's own mirrors.txt
    assert moved["sites"][MIRROR]["state"] == "up"
    assert moved["summary"]["sites"]["moved"] == {MAIN: MIRROR}
    assert moved["stats"]["onionlab/liveness/moved"] == 1
    assert main["key_fingerprint"] == KEY.fingerprint  # pinned from its /pgp.txt
    assert main["mirror_list"] == "verified"
    assert moved["stats"]["onionlab/mirrors/proven"] == 1
    assert "mirror_unverified" not in moved["summary"]["dropped"]


@needs_gpg
def test_the_crawl_goes_on_through_the_mirror_and_loses_nothing(moved: dict[str, Any]) -> None:
    expected = {f"http://{MAIN}/"} | {f"http://{MAIN}/p/{n}" for n in range(1, PAGES)}
    assert expected <= set(moved["pages"])  # every page, under the site's own URLs
    assert not [u for u in moved["pages"] if MIRROR in u]
    assert moved["summary"]["errors"] == 0, moved["summary"]["errors_by_kind"]
    assert moved["connects"].count(MIRROR) >= PAGES // 2
    assert moved["stats"]["onionlab/liveness/via_mirror"] >= PAGES // 2
    assert moved["after_switch"] < 40  # the dead address stops costing requests


def test_mirrors_known_from_the_lab_need_no_mirror_list() -> None:
    from onionlab.crawler.sitestate import LivenessRegistry
    from tests.crawler.test_liveness import _crawler

    registry = LivenessRegistry(_crawler({"ONIONLAB_MIRRORS": {MAIN: [MIRROR]}}))
    registry.answered(MAIN)
    assert registry.hosts[MAIN].mirrors == [MIRROR]
    for _ in range(5):
        registry.failed(MAIN, "tor_01")
    assert (registry.hosts[MAIN].state, registry.hosts[MAIN].moved_to) == ("moved", MIRROR)


# --- a hostile site names another, differently keyed site as its mirror (defect 5) ----------

HOSTILE = "h" * 55 + "d.onion"
VICTIM = "v" * 55 + "d.onion"
HOSTILE_SECRET, VICTIM_SECRET = bytes([7]) * 32, bytes([9]) * 32
HOSTILE_KEY = make_key(HOSTILE_SECRET, "Hostile Admin", created=1_600_000_000)
VICTIM_KEY = make_key(VICTIM_SECRET, "Victim Admin", created=1_600_000_000)
# Honestly signed by the hostile site's own key: a valid signature proves nothing by itself.
HOSTILE_LIST = clearsign(
    HOSTILE_SECRET, HOSTILE_KEY, f"http://{HOSTILE}\nhttp://{VICTIM}\n", 1_600_000_100
)
VICTIM_LIST = clearsign(VICTIM_SECRET, VICTIM_KEY, f"http://{VICTIM}\n", 1_600_000_100)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run_dir = tmp_path_factory.mktemp("hostile")
    with (
        LinkedSite(
            pages=PAGES, mirrors_txt=HOSTILE_LIST, files={"/pgp.txt": HOSTILE_KEY.armored}
        ) as site,
        LinkedSite(
            pages=5, mirrors_txt=VICTIM_LIST, files={"/pgp.txt": VICTIM_KEY.armored}
        ) as victim,
    ):
        errors = VanishingErrors({}, host=HOSTILE, after=MAIN_ANSWERS)
        routes = {HOSTILE: site.port, VICTIM: victim.port}
        summary, records = crawl_in_subprocess(HOSTILE, routes, errors, run_dir)
        victim_paths = [path for path, _ in victim.requests]
    return {
        "summary": summary,
        "sites": json.loads((run_dir / "sites.json").read_text()),
        "connects": [r.host for r in records],
        "victim_paths": victim_paths,
    }


@needs_gpg
def test_a_mirror_with_another_key_is_refused_and_never_used(hostile: dict[str, Any]) -> None:
    record = hostile["sites"][HOSTILE]
    assert record["state"] == "gone"  # not "moved" to the victim
    assert record["mirrors"] == []
    assert record["mirror_list"] == "verified"  # its own signature was fine...
    assert record["mirrors_refused"] == {VICTIM: "wrong_key"}  # ...the victim is not it
    assert hostile["summary"]["dropped"]["mirror_unverified"] == 1
    assert hostile["summary"]["sites"]["moved"] == {}
    # The victim got the one proof request (its own mirrors.txt), none of the hostile URLs.
    assert hostile["connects"].count(VICTIM) <= 1
    assert set(hostile["victim_paths"]) <= {"/mirrors.txt"}


# --- the rules, one by one, without a crawl ---------------------------------------------------


class _Fetcher:
    """Answers the registry's own fetches from a table: (host it goes to, path) -> text."""

    def __init__(self, table: dict[tuple[str, str], str]) -> None:
        self.table = table
        self.fetched: list[tuple[str, str]] = []

    async def __call__(self, request: Any) -> Any:
        from urllib.parse import urlsplit

        from scrapy.http import TextResponse

        parts = urlsplit(request.url)
        target = (request.meta.get("onionlab_via") or parts.hostname, parts.path)
        self.fetched.append(target)
        text = self.table.get(target)
        return TextResponse(
            request.url,
            status=200 if text is not None else 404,
            body=(text or "not found").encode(),
            encoding="utf-8",
            request=request,
        )


def _check(
    site: str,
    text: str,
    table: dict[tuple[str, str], str],
    settings: dict[str, Any] | None = None,
    served: str | None = None,
) -> Any:
    import asyncio

    from onionlab.crawler.sitestate import LivenessRegistry
    from tests.crawler.test_liveness import _crawler

    registry = LivenessRegistry(_crawler(settings))

    async def blocking(function: Any, *args: Any) -> Any:
        return function(*args)

    registry.run_blocking = blocking
    fetch = _Fetcher(table)
    url = f"http://{site}/mirrors.txt"
    asyncio.run(registry.check_mirror_list(site, served or site, url, text, fetch))
    return registry, fetch


MAIN_FILES = {
    (MAIN, "/pgp.txt"): KEY.armored,
    (MIRROR, "/mirrors.txt"): SIGNED,
}


@needs_gpg
def test_a_list_signed_by_the_site_and_proven_by_its_mirror_is_trusted() -> None:
    registry, fetch = _check(MAIN, SIGNED, MAIN_FILES)
    assert registry.mirrors[MAIN] == [MIRROR]
    assert registry.hosts[MAIN].key_fingerprint == KEY.fingerprint
    assert fetch.fetched == [(MAIN, "/pgp.txt"), (MIRROR, "/mirrors.txt")]


@needs_gpg
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (LIST_BODY, "unsigned"),
        (FORGED, "bad_signature"),  # the old fixture: a signature block that is not one
        (SIGNED.replace(MIRROR, "s" * 55 + "d.onion"), "bad_signature"),  # tampered
        (HOSTILE_LIST, "wrong_key"),  # signed, but not by the key MAIN publishes
    ],
)
def test_a_list_that_does_not_verify_is_refused(text: str, reason: str) -> None:
    registry, _ = _check(MAIN, text, MAIN_FILES)
    assert registry.mirrors.get(MAIN, []) == []
    assert registry.hosts[MAIN].mirror_list == reason
    assert registry.stats.get_value("onionlab/dropped/mirror_unverified") == 1


@needs_gpg
def test_a_key_other_than_the_pinned_one_is_refused() -> None:
    configured = {"ONIONLAB_SITE_KEYS": {MAIN: HOSTILE_KEY.fingerprint}}
    registry, _ = _check(MAIN, SIGNED, MAIN_FILES, configured)
    assert registry.mirrors.get(MAIN, []) == []
    assert registry.hosts[MAIN].mirror_list == "no_key"
    assert registry.stats.get_value("onionlab/mirrors/key_mismatch") == 1


@needs_gpg
def test_another_sites_list_replayed_is_refused() -> None:
    """A hostile site serving the victim's key and signed list verbatim: valid signature,
    but the list does not name the address it was served from."""
    table = {(HOSTILE, "/pgp.txt"): VICTIM_KEY.armored}
    registry, _ = _check(HOSTILE, VICTIM_LIST, table)
    assert registry.mirrors.get(HOSTILE, []) == []
    assert registry.hosts[HOSTILE].mirror_list == "not_listed"


@needs_gpg
def test_a_mirror_that_serves_no_signed_list_is_refused() -> None:
    table = {(HOSTILE, "/pgp.txt"): HOSTILE_KEY.armored}  # the victim has no mirrors.txt
    registry, _ = _check(HOSTILE, HOSTILE_LIST, table)
    assert registry.mirrors.get(HOSTILE, []) == []
    assert registry.hosts[HOSTILE].mirrors_refused == {VICTIM: "http_404"}


def test_unsigned_lists_only_with_the_explicit_setting() -> None:
    registry, _ = _check(MAIN, LIST_BODY, {}, {"ONIONLAB_TRUST_UNSIGNED_MIRRORS": True})
    assert registry.mirrors[MAIN] == [MIRROR]
    registry, _ = _check(MAIN, LIST_BODY, {})
    assert registry.mirrors.get(MAIN, []) == []


@needs_gpg
def test_the_pin_survives_a_resume_and_a_changed_key_is_refused(tmp_path: Path) -> None:
    """Trust on first use: the fingerprint pinned in an earlier session's sites.json holds;
    a site that now publishes another key (taken over, or an impostor) is not followed."""
    (tmp_path / "sites.json").write_text(
        json.dumps({MAIN: {"state": "up", "key_fingerprint": HOSTILE_KEY.fingerprint}})
    )
    registry, _ = _check(MAIN, SIGNED, MAIN_FILES, {"ONIONLAB_RUN_DIR": str(tmp_path)})
    assert registry.mirrors.get(MAIN, []) == []
    assert registry.hosts[MAIN].key_fingerprint == HOSTILE_KEY.fingerprint  # unchanged
    assert registry.stats.get_value("onionlab/mirrors/key_mismatch") == 1
