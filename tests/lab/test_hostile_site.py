"""The malicious lab site (kind ``hostile``), served in-process (aiohttp's TestServer, no Tor).

Each attack is served as ``onionlab.lab.world.kinds.hostile.ATTACKS`` says (sizes, headers, targets,
bounds in time), every off-site target is the canary or the fake ``.invalid`` host, the
canary records a connection, the site goes dark after its forged mirrors.txt, the profile
switches it on and off, and with it off the world and its truth are those of today.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import brotli
import pytest
from aiohttp.test_utils import TestClient, TestServer

from onionlab.lab.profiles import DEFAULT, HOSTILE, OPEN, load_profile, profile_from_mapping
from onionlab.lab.sites.hostile import configure
from onionlab.lab.sites.hostile.canary import Canary, canary_count
from onionlab.lab.sites.registry import make_app
from onionlab.lab.world import build_world
from onionlab.lab.world.kinds import hostile as K
from onionlab.lab.world.model import World
from onionlab.lab.world.truth import ground_truth, truth_json
from tests.support.gpg import gpg_verify, needs_gpg

SEED = 1
CANARY = "127.0.0.1:48999"  # only written into pages here; nothing listens on it
OUTCOMES = re.compile(r"page|dropped:[a-z_]+|error:[A-Za-z_0-9]+")
DROP_REASONS = {
    "offsite_redirect", "site_budget", "page_cap", "trap", "depth", "mirror_unverified",
    "extract_timeout", "extract_memory", "extract_crashed", "items_per_page",
    "links_per_page", "malformed_result", "item_unserialisable", "pipeline_error",
    "retry_after_capped",
}  # fmt: skip


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED, hostile=True)


@pytest.fixture(scope="module")
def svc(world: World) -> Any:
    return world.service("abyss")


Run = Callable[[TestClient], Awaitable[Any]]


def served(world: World, run: Run, *, hold: float = 2.0, dark_after: int = 1000) -> Any:
    """Run ``run(client)`` against a fresh hostile app (bombs are not auto-decompressed)."""
    svc = world.service("abyss")

    async def main() -> Any:
        app = make_app(world, svc)
        configure(app, canary=CANARY, hold=hold, dark_after=dark_after)
        server = TestServer(app)
        async with TestClient(
            server,
            auto_decompress=False,
            max_line_size=1 << 16,
            max_field_size=1 << 16,
            max_headers=4096,
        ) as client:
            return await run(client)

    return asyncio.run(main())


async def get(client: TestClient, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
    return await client.get(path, allow_redirects=False, **kwargs)


# --- the switch: profile, world and truth ---------------------------------------------------


def test_only_the_hostile_profile_switches_it_on(tmp_path: Path) -> None:
    assert HOSTILE.hostile and not DEFAULT.hostile and not OPEN.hostile
    assert load_profile("hostile") is HOSTILE
    # Everything else of the hostile profile is the default lab's.
    assert dataclasses.replace(HOSTILE, name="default", hostile=False) == DEFAULT
    week = tmp_path / "week-3.toml"
    week.write_text('base = "open"\nhostile = true\nhostile_hold = 30\n')
    custom = load_profile(str(week))
    assert custom.hostile and not custom.queue and custom.hostile_hold == 30.0
    off = profile_from_mapping({"base": "hostile", "hostile": False}, name="x", source="t")
    assert not off.hostile


@pytest.mark.parametrize("seed", [1, 2])
def test_world_and_truth_without_it_are_todays(seed: int) -> None:
    plain = build_world(seed)
    assert "abyss" not in {s.name for s in plain.services}
    assert "attacks" not in ground_truth(plain)
    with_it = build_world(seed, hostile=True)
    assert with_it.services[-1].kind == "hostile"
    # The other services are the same objects' values, and so is their truth, to the byte.
    without = dataclasses.replace(
        with_it, services=tuple(s for s in with_it.services if s.kind != "hostile")
    )
    assert without == plain
    assert truth_json(without) == truth_json(plain)


def test_truth_lists_its_ordinary_pages_and_every_attack(world: World, svc: Any) -> None:
    truth = ground_truth(world)
    base = f"http://{svc.onion}"
    assert sorted(u for u in truth["pages"] if u.startswith(base)) == sorted(
        base + p for p in K.ORDINARY
    )
    attacks = truth["attacks"]
    assert len(attacks) == len(K.ATTACKS) >= 35
    assert {a["path"] for a in attacks} == set(K.ATTACK_PATHS)
    assert not set(K.ORDINARY) & set(K.ATTACK_PATHS)
    for row in attacks:
        assert set(row) == {"site", "path", "url", "attack", "category", "expect", "what"}
        assert row["site"] == "abyss" and row["url"] == base + row["path"]
        assert row["expect"], row
        for outcome in row["expect"]:
            assert OUTCOMES.fullmatch(outcome), outcome
            if outcome.startswith("dropped:"):
                assert outcome.split(":", 1)[1] in DROP_REASONS, outcome
    categories = {a["category"] for a in attacks}
    assert categories == {"bomb", "drip", "redirect", "flood", "parser", "regex", "mirror",
                          "retry_after", "charset", "cookie"}  # fmt: skip
    # The forged list names the forum: it is another lab site.
    assert K.content_of(svc).mirror_target == world.service("forum").onion


# --- ordinary pages ---------------------------------------------------------------------------


def test_ordinary_pages_answer_and_every_off_site_target_is_the_canary(world, svc) -> None:
    async def run(client: TestClient) -> dict[str, tuple[int, str]]:
        out = {}
        for path in (*K.ORDINARY, K.PGP_TXT):
            resp = await get(client, path)
            out[path] = (resp.status, await resp.text())
        return out

    pages = served(world, run)
    assert all(status == 200 for status, _ in pages.values()), pages
    home = pages["/"][1]
    for path in K.ATTACK_PATHS:
        assert f'href="{path}"' in home, path  # every attack is one click from home
    targets = set(re.findall(r'(?:href|src|action)="(https?://[^"/]+)', home))
    assert targets == {
        f"http://{CANARY}",
        f"http://localhost:{CANARY.rsplit(':', 1)[1]}",
        f"http://{K.FAKE_CLEARNET}",
    }
    assert svc.onion in home
    assert "BEGIN PGP PUBLIC KEY BLOCK" in pages[K.PGP_TXT][1]


# --- bombs and oversized bodies --------------------------------------------------------------


def _inflated_size(encoding: str, body: bytes) -> int:
    if encoding == "br":
        return len(brotli.decompress(body))
    unpack = zlib.decompressobj(31 if encoding == "gzip" else 15)
    size, data = 0, body
    while data:
        size += len(unpack.decompress(data, 1 << 20))
        data = unpack.unconsumed_tail
    return size + len(unpack.flush())


@pytest.mark.parametrize("path,encoding", [("/dl/gzip", "gzip"), ("/dl/deflate", "deflate"),
                                           ("/dl/br", "br")])  # fmt: skip
def test_bombs_are_small_and_inflate_past_the_download_limit(world, path, encoding) -> None:
    async def run(client: TestClient) -> tuple[int, str, bytes]:
        resp = await get(client, path, headers={"Accept-Encoding": "gzip, deflate, br"})
        return resp.status, resp.headers["Content-Encoding"], await resp.read()

    status, header, body = served(world, run)
    assert status == 200 and header == encoding
    assert len(body) < 128 * 1024
    assert _inflated_size(encoding, body) == K.BOMB_SIZE > 4 * K.MAXSIZE - 1


def test_oversized_bodies_declared_and_streamed(world) -> None:
    async def run(client: TestClient) -> tuple[int, str | None, int, str | None]:
        big = await get(client, "/dl/big")
        declared = big.headers.get("Content-Length")
        big.close()
        stream = await get(client, "/dl/stream")
        size = 0
        async for chunk in stream.content.iter_chunked(1 << 20):
            size += len(chunk)
        return int(declared or 0), stream.headers.get("Transfer-Encoding"), size, None

    declared, encoding, size, _ = served(world, run)
    assert declared == K.OVERSIZE > K.MAXSIZE
    assert encoding == "chunked" and size > K.MAXSIZE


# --- drips, endless bodies, no answer: bounded server-side --------------------------------------


def test_drip_trickles_and_the_server_gives_up_after_hold(world) -> None:
    async def run(client: TestClient) -> tuple[str, float, int, float]:
        started = time.monotonic()
        resp = await get(client, "/slow/drip")
        length = resp.headers["Content-Length"]
        first = await resp.content.readexactly(3)
        three = time.monotonic() - started
        got = len(first)
        with pytest.raises(aiohttp.ClientPayloadError):
            got += len(await resp.read())
        return length, three, got, time.monotonic() - started

    length, three_bytes, got, total = served(world, run, hold=3.5)
    assert length == "4096"
    assert three_bytes >= 2 * 0.9  # a byte a second (tick 1 s): the 3rd byte after ~2 s
    assert got < 10 and 3.4 <= total < 7  # cut by the server after hold, never finished


def test_endless_body_never_ends_and_no_answer_never_comes(world) -> None:
    async def run(client: TestClient) -> tuple[str | None, float, float]:
        started = time.monotonic()
        resp = await get(client, "/slow/endless")
        encoding = resp.headers.get("Transfer-Encoding")
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
        endless = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
            await get(client, "/slow/hang")
        return encoding, endless, time.monotonic() - started

    encoding, endless, hang = served(world, run, hold=1.0)
    assert encoding == "chunked"
    assert 0.9 <= endless < 4 and 0.9 <= hang < 4


# --- redirect games ------------------------------------------------------------------------------


def test_redirects_point_at_the_canary_and_other_schemes(world) -> None:
    async def run(client: TestClient) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind in ("canary", "localhost", "clearnet", "file", "data"):
            resp = await get(client, f"/go/{kind}")
            out[kind] = (resp.status, resp.headers["Location"])
        chain = ["/go/loop"]
        for _ in range(25):
            resp = await get(client, chain[-1])
            assert resp.status == 302
            chain.append(resp.headers["Location"])
        out["chain"] = chain
        meta = await get(client, "/go/meta")
        out["meta"] = await meta.text()
        refresh = await get(client, "/go/refresh")
        out["refresh"] = (refresh.status, refresh.headers["Refresh"])
        return out

    out = served(world, run)
    port = CANARY.rsplit(":", 1)[1]
    assert out["canary"] == (302, f"http://{CANARY}/redirect")
    assert out["localhost"] == (302, f"http://localhost:{port}/redirect")
    assert out["clearnet"] == (302, f"http://{K.FAKE_CLEARNET}/download")
    assert out["file"] == (302, "file:///etc/passwd")
    assert out["data"][1].startswith("data:text/html;base64,")
    assert len(set(out["chain"])) == 26  # every hop a new URL: only a hop limit ends it
    assert f'content="0;url=http://{CANARY}/meta"' in out["meta"]
    assert out["refresh"] == (200, f"0; url=http://{CANARY}/refresh")


# --- link floods and generators --------------------------------------------------------------


def test_link_flood_and_endless_generators(world, svc) -> None:
    async def run(client: TestClient) -> dict[str, str]:
        out = {}
        word = K.content_of(svc).seed_word
        paths = ["/links/all", "/links/item/99999", "/wiki/", f"/wiki/{word}",
                 "/archive/2026/12/01", "/archive/2026/12/28", "/board/1",
                 "/board/9999999"]  # fmt: skip
        for path in paths:
            resp = await get(client, path)
            assert resp.status == 200, path
            out[path] = await resp.text()
        return out

    out = served(world, run)
    flood = re.findall(r'href="(/links/item/\d+)"', out["/links/all"])
    assert len(flood) == len(set(flood)) == K.FLOOD_LINKS
    seed_word = K.content_of(svc).seed_word
    children = re.findall(r'href="/wiki/([a-z]+)"', out[f"/wiki/{seed_word}"])
    assert len(children) == 6 and all(c.isalpha() for c in children)
    assert f'href="/wiki/{seed_word}"' in out["/wiki/"]
    assert 'href="/archive/2027/01/01"' in out["/archive/2026/12/28"]  # on past any year
    assert 'href="/board/10000000"' in out["/board/9999999"]
    # Letters-only paths: no digit for a URL-family budget to catch.
    assert not re.search(r"\d", "".join(children))


# --- parser and regex bombs ----------------------------------------------------------------------


def test_parser_and_regex_bombs(world) -> None:
    async def run(client: TestClient) -> dict[str, str]:
        out = {}
        for path in ("/p/nest", "/p/attr", "/p/lines", "/x/token", "/x/armor", "/x/script",
                     "/x/letters"):  # fmt: skip
            resp = await get(client, path)
            assert resp.status == 200, path
            out[path] = await resp.text()
        return out

    out = served(world, run)
    nest = out["/p/nest"]
    assert nest.count("<div") == K.NEST_DEPTH == nest.count("</div>")
    assert nest.count(f'href="http://{CANARY}/deep/') == K.NEST_DEPTH * K.NEST_LINKS
    assert max(len(v) for v in re.findall(r'data-blob="([^"]*)"', out["/p/attr"])) == (
        K.HUGE_ATTRIBUTE
    )
    assert len(re.findall(r' a\d+="x"', out["/p/attr"])) == K.MANY_ATTRIBUTES
    lines = out["/p/lines"].split("<p>\n", 1)[1].split("\n</p>", 1)[0].split("\n")
    assert len(lines) == K.PARSER_LINES and {len(x) for x in lines} == {1}
    assert not any(x.isalnum() for x in lines)  # punctuation: the parser, not the regexes
    token = re.search(r"<p>Code: ([0-9A-Za-z]+)\. Keep it\.</p>", out["/x/token"])
    assert token and len(token[1]) == K.TOKEN_SIZE
    armor = out["/x/armor"]
    assert armor.count("-----BEGIN PGP PUBLIC KEY BLOCK-----") == K.ARMOR_HEADERS
    assert "-----END PGP" not in armor
    script = out["/x/script"]
    assert script.count("<script>") == K.SCRIPT_OPENERS and "</script>" not in script
    assert "</html>" not in script
    letters = out["/x/letters"].split("<p>\n", 1)[1].split("\n</p>", 1)[0].split("\n")
    assert len(letters) == K.LETTER_LINES and all(len(x) == 1 and x.isalpha() for x in letters)


# --- the forged mirror list, then darkness ---------------------------------------------------


@needs_gpg
def test_forged_mirrors_name_the_forum_and_do_not_verify(world, svc) -> None:
    async def run(client: TestClient) -> tuple[str, str]:
        mirrors = await (await get(client, K.MIRRORS_TXT)).text()
        key = await (await get(client, K.PGP_TXT)).text()
        return mirrors, key

    mirrors, key = served(world, run)
    forum = world.service("forum").onion
    assert f"http://{forum}" in mirrors and f"http://{svc.onion}" in mirrors
    assert mirrors.startswith("-----BEGIN PGP SIGNED MESSAGE-----")
    assert not gpg_verify(mirrors, key)  # not signed by the key the site publishes
    assert gpg_verify(mirrors, K.content_of(svc).forger_key.armored)  # but by another one


def test_site_goes_dark_after_its_mirror_list(world, svc) -> None:
    word = K.content_of(svc).seed_word

    async def run(client: TestClient) -> list[Any]:
        seen: list[Any] = [(await get(client, f"/wiki/{word}")).status]
        await get(client, K.MIRRORS_TXT)
        for n in range(3):
            seen.append((await get(client, f"/board/{n + 1}")).status)
        for path in (f"/wiki/{word}", "/board/1", "/links/item/7"):
            try:
                seen.append((await get(client, path)).status)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                seen.append("dropped")
        seen.append((await get(client, K.ABOUT_PATH)).status)  # finite pages still answer
        seen.append((await get(client, "/x/token")).status)
        return seen

    assert served(world, run, dark_after=3) == [200, 200, 200, 200, "dropped", "dropped",
                                                 "dropped", 200, 200]  # fmt: skip


# --- Retry-After, charsets, cookies ----------------------------------------------------------


def test_huge_retry_after_on_every_other_request(world) -> None:
    async def run(client: TestClient) -> list[tuple[int, str | None]]:
        out = []
        for path in ("/api/wait", "/api/wait", "/api/busy", "/api/later"):
            resp = await get(client, path)
            out.append((resp.status, resp.headers.get("Retry-After")))
        return out

    assert served(world, run) == [
        (429, "99999999"),
        (200, None),
        (503, "99999999"),
        (503, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ]


def test_invalid_utf8_and_lying_charsets(world) -> None:
    async def run(client: TestClient) -> dict[str, tuple[str, bytes]]:
        out = {}
        for kind in ("badutf8", "utf16", "unknown", "bom"):
            resp = await get(client, f"/t/{kind}")
            out[kind] = (resp.headers["Content-Type"], await resp.read())
        return out

    out = served(world, run)
    ctype, body = out["badutf8"]
    assert ctype == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    ctype, body = out["utf16"]
    assert ctype.endswith("charset=utf-16") and body.isascii() and len(body) % 2 == 1
    ctype, body = out["unknown"]
    assert ctype.endswith("charset=x-abyss-0") and b'<meta charset="utf-7">' in body
    ctype, body = out["bom"]
    assert body.startswith(b"\xff\xfe") and "Ü".encode() in body


def test_hostile_cookies(world) -> None:
    async def run(client: TestClient) -> dict[str, list[str]]:
        out = {}
        for kind in ("huge", "many", "cross"):
            resp = await get(client, f"/c/{kind}")
            out[kind] = resp.headers.getall("Set-Cookie")
        return out

    out = served(world, run)
    assert len(out["huge"]) == 1 and len(out["huge"][0]) > K.HUGE_COOKIE
    assert "Path=/c/huge" in out["huge"][0]  # sent back only there: other pages stay fetchable
    assert len(out["many"]) == K.MANY_COOKIES
    forum = world.service("forum").onion
    assert any("Domain=.onion" in c for c in out["cross"])
    assert any(f"Domain={forum}" in c for c in out["cross"])


# --- the canary ----------------------------------------------------------------------------------


def test_canary_records_every_connection(tmp_path: Path) -> None:
    log = tmp_path / "canary.ndjson"

    async def run() -> tuple[bytes, int]:
        canary = Canary(log)
        address = await canary.start("127.0.0.1", 0)
        host, port = address.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /redirect HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: x\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=5)
        writer.close()
        # A connection that sends nothing is recorded too.
        bare = socket.create_connection((host, int(port)), timeout=5)
        bare.close()
        for _ in range(100):
            if canary.count >= 2:
                break
            await asyncio.sleep(0.05)
        await canary.stop()
        return answer, canary.count

    answer, count = asyncio.run(run())
    assert answer.startswith(b"HTTP/1.0 200 OK") and b"canary" in answer
    assert count == 2 == canary_count(log)
    first = json.loads(log.read_text().splitlines()[0])
    assert first["request"] == "GET /redirect HTTP/1.1" and first["host"] == "127.0.0.1"
    assert first["peer"].startswith("127.0.0.1:")
    assert canary_count(tmp_path / "none.ndjson") == 0


def test_site_server_runs_the_canary_the_pages_point_at(tmp_path: Path) -> None:
    """The lab's site server with a hostile profile: the canary runs and is recorded."""
    profile = tmp_path / "open-hostile.toml"
    profile.write_text('base = "open"\nhostile = true\n')
    ready = tmp_path / "ready.json"
    log = tmp_path / "canary.ndjson"
    command = [sys.executable, "-m", "onionlab.lab.sites.serve", "--seed", str(SEED), "--profile",
               str(profile), "--listen", "abyss=127.0.0.1:0", "--ready-file", str(ready),
               "--canary", "127.0.0.1:0", "--canary-log", str(log)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "the site server did not start"
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        canary = info["canary"]
        with urllib.request.urlopen(f"http://{info['sites']['abyss']}/", timeout=10) as page:
            home = page.read().decode()
        assert f'src="http://{canary}/pixel.gif"' in home  # the pages name the live canary
        with urllib.request.urlopen(f"http://{canary}/pixel.gif", timeout=10) as leak:
            assert b"canary" in leak.read()
        assert canary_count(log) == 1
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_eval_scores_a_hostile_lab_run_and_ignores_the_attacks_key(world, svc, tmp_path) -> None:
    from onionlab.crawler.runs.rundir import RunDir
    from onionlab.crawler.scoring import evaluate

    home = {"kind": "page", "url": svc.url, "site": svc.onion, "status": 200}
    action = {"index": {"_index": "onionlab-pages", "_id": "1"}}
    (tmp_path / "items.ndjson").write_text(json.dumps(action) + "\n" + json.dumps(home) + "\n")
    scores = evaluate(RunDir(tmp_path), ground_truth(world))
    assert scores["pages"]["by_site"]["abyss"] == {
        "precision": 1.0, "recall": 0.25, "found": 1, "correct": 1, "expected": 4,
    }  # fmt: skip
