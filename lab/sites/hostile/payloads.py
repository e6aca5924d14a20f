"""The hostile site's bodies: ordinary pages, bombs and parser/regex bombs, as bytes.

Pure functions of the world (and of the canary address, for the pages that point at it);
the big ones are built once per process (``functools.cache``) from small pieces, so the
lab server never spends more than a fraction of a second on them. Depends on
``onionlab.lab.world`` and ``brotli`` (a dependency of Scrapy, hence always installed).
"""

from __future__ import annotations

import functools
import html
import zlib
from collections.abc import Sequence
from random import Random

import brotli

from onionlab.lab.sites.signed_files import pgp_text
from onionlab.lab.world.kinds import hostile as K
from onionlab.lab.world.model import Service
from onionlab.lab.world.pgp import clearsign

_MIB = b"\0" * (1024 * 1024)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def document(title: str, body: str, *, head: str = "") -> bytes:
    """A complete HTML page in the site's style."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"{head}<title>{esc(title)}</title>"
        "<style>body{background:#0b0b0f;color:#c8c8d0;font-family:monospace}"
        "a{color:#8fd}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    ).encode()


# --- bombs (each inflates to K.BOMB_SIZE) ------------------------------------------------------


def _deflated(wbits: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    size = K.BOMB_SIZE // len(_MIB)
    return b"".join(packer.compress(_MIB) for _ in range(size)) + packer.flush()


@functools.cache
def gzip_bomb() -> bytes:
    return _deflated(31)


@functools.cache
def deflate_bomb() -> bytes:
    return _deflated(15)


@functools.cache
def brotli_bomb() -> bytes:
    packer = brotli.Compressor(quality=5)
    size = K.BOMB_SIZE // len(_MIB)
    return b"".join(packer.process(_MIB) for _ in range(size)) + packer.finish()


FILLER = b"<!-- abyss -->" * 4681  # ~64 KiB of filler for oversized bodies


# --- ordinary pages --------------------------------------------------------------------------


def _nav() -> str:
    links = [
        (K.HOME_PATH, "Home"),
        (K.LISTINGS_PATH, "Listings"),
        (K.ABOUT_PATH, "About"),
        (K.MIRRORS_TXT, "Mirrors"),
        (K.PGP_TXT, "PGP key"),
    ]
    return "<nav>" + " | ".join(f'<a href="{p}">{esc(t)}</a>' for p, t in links) + "</nav>"


_SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Downloads", (("/dl/gzip", "Leak archive (gz)"), ("/dl/deflate", "Combo list"),
                   ("/dl/br", "Database dump"), ("/dl/big", "Full DB (17 MB)"),
                   ("/dl/stream", "Live feed"))),
    ("Status", (("/slow/drip", "Escrow status"), ("/slow/endless", "Live chat"),
                ("/slow/hang", "Wallet sync"))),
    ("Out", (("/go/loop", "Sign in"), ("/go/canary", "Local node"),
             ("/go/localhost", "Control panel"), ("/go/clearnet", "Clearnet CDN"),
             ("/go/file", "Config"), ("/go/data", "Preview"), ("/go/meta", "New address"),
             ("/go/refresh", "Moving soon"))),
    ("Directory", (("/links/all", "All links"), ("/wiki/", "Wiki"),
                   ("/archive/2026/12/01", "Archive"), ("/board/1", "Board"))),
    ("Docs", (("/p/nest", "Threads"), ("/p/attr", "Gallery"), ("/p/lines", "Changelog"),
              ("/x/token", "Invite code"), ("/x/armor", "Keyring"),
              ("/x/script", "Widgets"), ("/x/letters", "Poem"))),
    ("API", (("/api/wait", "Prices"), ("/api/busy", "Orders"), ("/api/later", "Payouts"))),
    ("Text", (("/t/badutf8", "Readme"), ("/t/utf16", "Notes"), ("/t/unknown", "Rules"),
              ("/t/bom", "FAQ"))),
    ("Account", (("/c/huge", "Preferences"), ("/c/many", "Session"),
                 ("/c/cross", "Remember me"))),
)  # fmt: skip


def leaks(canary: str) -> str:
    """What a browser would fetch on its own: every one of them points off the onion."""
    c = f"http://{canary}"
    port = canary.rsplit(":", 1)[1]
    return (
        f'<p class="partners">Partners: <a href="{c}/partner">our node</a> · '
        f'<a href="http://localhost:{port}/panel">panel</a> · '
        f'<a href="http://{K.FAKE_CLEARNET}/">clearnet mirror</a></p>'
        f'<img src="{c}/pixel.gif" width="1" height="1" alt="">'
        f'<iframe src="{c}/frame" width="0" height="0" title="stats"></iframe>'
        f'<script src="http://{K.FAKE_CLEARNET}/track.js"></script>'
        f'<form action="{c}/login" method="post"><input name="user">'
        '<button type="submit">Quick login</button></form>'
    )


def home_page(service: Service, canary: str) -> bytes:
    sections = "".join(
        f"<h2>{esc(name)}</h2><ul>"
        + "".join(f'<li><a href="{p}">{esc(t)}</a></li>' for p, t in links)
        + "</ul>"
        for name, links in _SECTIONS
    )
    body = (
        f"<h1>{esc(service.title)}</h1><p>{esc(service.tagline)}</p>{_nav()}"
        f"<p>Our address: {esc(service.onion)}</p>{sections}"
        f'<link rel="stylesheet" href="http://{canary}/style.css">{leaks(canary)}'
    )
    return document(service.title, body)


def listings_page(service: Service, number: int) -> bytes:
    items = K.content_of(service).items
    half = (len(items) + 1) // 2
    shown = items[:half] if number == 1 else items[half:]
    rows = "".join(
        f'<tr><td class="title">{esc(t)}</td><td class="price">${esc(p)}</td><td>{esc(d)}</td></tr>'
        for t, p, d in shown
    )
    other = (K.LISTINGS_2_PATH, "Next page") if number == 1 else (K.LISTINGS_PATH, "Previous")
    body = (
        f"<h1>{esc(service.title)} · listings</h1>{_nav()}<table>{rows}</table>"
        f'<p><a href="{other[0]}">{other[1]}</a></p>'
    )
    return document(f"{service.title} - Listings {number}", body)


def about_page(service: Service) -> bytes:
    fpr = K.content_of(service).admin_key.fingerprint
    groups = " ".join(fpr[i : i + 4] for i in range(0, 40, 4))
    body = (
        f"<h1>About {esc(service.title)}</h1>{_nav()}"
        "<p>Running since 2021. Always check our signed mirror list.</p>"
        f"<p>Admin PGP key fingerprint: {groups}</p>"
    )
    return document(f"{service.title} - About", body)


def pgp_txt(service: Service) -> bytes:
    return pgp_text(service, K.content_of(service).admin_key).encode()


def mirrors_txt(seed: int, service: Service) -> bytes:
    """The forged list: our onion and the mirror target's, signed by the forger's key."""
    content = K.content_of(service)
    lines = [
        f"# {service.title} - official mirrors",
        "# Verify this file with the key published at /pgp.txt.",
        "",
        f"http://{service.onion}",
    ]
    if content.mirror_target:
        lines.append(f"http://{content.mirror_target}")
    _, forger_secret = K.secrets_for(seed, service.name)
    signed = clearsign(
        forger_secret, content.forger_key, "\n".join(lines) + "\n", content.forger_key.created
    )
    return signed.encode()


def not_found(service: Service) -> bytes:
    return document(f"{service.title} - Not found", f"<h1>404</h1>{_nav()}")


# --- link floods and generators ---------------------------------------------------------------


@functools.cache
def flood_page(title: str, canary: str) -> bytes:
    links = "\n".join(f'<a href="/links/item/{n}">#{n}</a>' for n in range(1, K.FLOOD_LINKS + 1))
    return document(f"{title} - All links", f"<h1>All links</h1>{leaks(canary)}\n{links}")


def small_page(title: str, text: str, links: Sequence[tuple[str, str]] = ()) -> bytes:
    anchors = " ".join(f'<a href="{esc(p)}">{esc(t)}</a>' for p, t in links)
    return document(title, f"<h1>{esc(title)}</h1><p>{esc(text)}</p><p>{anchors}</p>")


def wiki_links(seed: int, word: str) -> list[tuple[str, str]]:
    return [(f"/wiki/{w}", w) for w in (K.wiki_word(seed, word, n) for n in range(6))]


def archive_links(year: int, month: int, day: int) -> list[tuple[str, str]]:
    def path(y: int, m: int, d: int) -> str:
        return f"/archive/{y:04d}/{m:02d}/{d:02d}"

    nxt = (year, month, day + 1) if day < 28 else ((year, month + 1, 1) if month < 12 else
                                                   (year + 1, 1, 1))  # fmt: skip
    prv = (year, month, day - 1) if day > 1 else ((year, month - 1, 28) if month > 1 else
                                                  (max(year - 1, 0), 12, 28))  # fmt: skip
    return [
        (path(*prv), "previous day"),
        (path(*nxt), "next day"),
        (path(year, month % 12 + 1, day), "next month"),
        (path(year + 1, month, day), "next year"),
    ]


def board_links(n: int) -> list[tuple[str, str]]:
    pages = [n + 1, n + 10, n + 100] + ([n - 1] if n > 1 else [])
    return [(f"/board/{p}", f"page {p}") for p in pages]


# --- parser and regex bombs --------------------------------------------------------------------


@functools.cache
def nest_page(canary: str) -> bytes:
    """2,000 nested elements, each with a style and links: a link's visibility depends on
    every one of its ancestors, so a naive check costs links x depth."""
    opening = "".join(
        f'<div style="color:#{n % 999:03d}">'
        + "".join(f'<a href="http://{canary}/deep/{n}/{k}">reply</a>' for k in range(K.NEST_LINKS))
        for n in range(K.NEST_DEPTH)
    )
    return document("Threads", f"<h1>Threads</h1>{opening}{'</div>' * K.NEST_DEPTH}")


@functools.cache
def attr_page(canary: str) -> bytes:
    blob = "A" * K.HUGE_ATTRIBUTE
    many = " ".join(f'a{n}="x"' for n in range(K.MANY_ATTRIBUTES))
    long_href = f"http://{canary}/?" + "q" * 100_000
    return document(
        "Gallery",
        f'<h1>Gallery</h1><div data-blob="{blob}">image</div><div {many}>more</div>'
        f'<a href="{long_href}">full size</a>',
    )


@functools.cache
def lines_page() -> bytes:
    marks = "|-.,;:!~"
    text = "\n".join(marks[n % len(marks)] for n in range(K.PARSER_LINES))
    return document("Changelog", f"<h1>Changelog</h1><p>\n{text}\n</p>")


@functools.cache
def token_page(seed: int) -> bytes:
    rng = Random(f"onionlab/hostile/token/{seed}")
    token = "".join(rng.choice(_ALNUM) for _ in range(K.TOKEN_SIZE))
    # Inside a sentence, not alone on a line: a pattern expecting a line break after a token
    # backtracks through all of it, from every one of its characters.
    return document("Invite code", f"<h1>Your invite code</h1><p>Code: {token}. Keep it.</p>")


@functools.cache
def armor_page() -> bytes:
    header = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
    return document("Keyring", f"<h1>Keyring</h1><pre>\n{header * K.ARMOR_HEADERS}</pre>")


@functools.cache
def script_page() -> bytes:
    openers = "<script>var a=1;<style>b{}" * K.SCRIPT_OPENERS
    # Neither the <script> nor the document is ever closed.
    return (
        b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Widgets</title></head>'
        b"<body><h1>Widgets</h1>" + openers.encode()
    )


@functools.cache
def letters_page() -> bytes:
    letters = "abcdefghijklmnopqrstuvwxyz"
    text = "\n".join(letters[n % 26] for n in range(K.LETTER_LINES))
    return document("Poem", f"<h1>A poem</h1><p>\n{text}\n</p>")


# --- charsets ----------------------------------------------------------------------------------

BAD_UTF8 = (
    b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Readme</title></head><body>'
    b"<h1>Readme</h1><p>invalid: \xff\xfe lone continuation: \x80\x80 overlong: \xc0\x80 "
    b"\xe0\x80\xaf surrogate: \xed\xa0\x80 five bytes: \xf8\x88\x80\x80\x80 "
    b"truncated: \xe2\x82</p></body></html>\n\xf0\x9f"
)
UTF16_LIE = (
    b"<!DOCTYPE html>\n<html><head><title>Notes</title></head><body><h1>Notes</h1>"
    b"<p>This page is plain ASCII; its header says UTF-16.</p></body></html>\n!"
)  # odd length: not even valid UTF-16
UNKNOWN_CHARSET = (
    b'<!DOCTYPE html>\n<html><head><meta charset="utf-7"><title>Rules</title></head><body>'
    b"<h1>Rules</h1><p>+ADw-script+AD4-alert(1)+ADw-/script+AD4-</p>"
    b"<p>caf\xe9 na\xefve \x93quoted\x94</p></body></html>\n"
)
BOM_MISMATCH = (
    b"\xff\xfe"
    + (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>FAQ</title></head><body>'
        "<h1>FAQ</h1><p>Ünïcödé text behind a UTF-16 byte-order mark.</p></body></html>\n"
    ).encode()
)
