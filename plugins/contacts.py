"""Finds contact handles on any page: e-mail, Telegram, Jabber/XMPP and Session IDs.

A built-in plugin written like an instructor's: it imports only ``crawler.hookimpl``, the
item types, the standard library and :mod:`onionlab.plugins._markup` (linear-time scans of armor,
scripts and tags), and is registered through the ``onionlab`` entry-point
group. It reads what a visitor sees (tags, scripts and armored PGP blocks left out) and
emits one :class:`~onionlab.items.Entity` per distinct ``(type, value)`` on the page:

* ``email`` and ``jabber``: ``local@domain`` (lower case) checked offline against the
  RFC 5321 limits, the domain a DNS name or an onion host. Both look the same, so the label
  written just before the address decides: "Jabber", "XMPP", "JID" make it a Jabber ID,
  anything else (or nothing) an e-mail address.
* ``telegram``: the username (case as written) from ``@name``, ``t.me/name``,
  ``telegram.me/name``, ``telegram.dog/name``, ``name.t.me`` and ``tg://resolve?domain=name``;
  a valid username has 5–32 of ``[A-Za-z0-9_]``, starts with a letter and does not end
  with ``_``. Invite links (``t.me/+…``, ``t.me/joinchat/…``) name no user and are skipped.
* ``session``: 66 hex digits starting with ``05`` (lower case).

The obfuscations vendors use to dodge scrapers are read too: ``t . me / name``,
``@ name`` after a Telegram label, and ``name [at] domain [dot] tld``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse, TextResponse

from onionlab import hookimpl
from onionlab.items import Entity, Item
from onionlab.plugins._markup import armor_spans, script_or_style_spans, sub_spans, sub_tags

CONTEXT = 60
LABEL_REACH = 40  # how far before an address its label may be written

INLINE_TAGS = (
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "em", "font", "i", "kbd", "mark",
    "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "tt", "u", "var",
)  # fmt: skip
# The look-ahead (one of the names' first letters) is implied by the names that follow it; it
# turns most other tags (div, p, li, h2, ...) away before the 25 names are tried one by one.
_INLINE_FIRST = "".join(sorted({name[0] for name in INLINE_TAGS}))
INLINE_TAG = re.compile(rf"</?(?=[{_INLINE_FIRST}])(?:{'|'.join(INLINE_TAGS)})\b[^>]*>", re.I)
TAG = re.compile(r"<[^>]*>")
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
# (Scripts, styles, tags and PGP armor are taken out through onionlab.plugins._markup, in linear
# time.)

# RFC 5321 dot-atom, restricted to the characters addresses are written with in practice.
LOCAL = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
ADDRESS = re.compile(rf"(?<![\w.%+@-])({LOCAL})@({DOMAIN})(?![\w@-]|\.[A-Za-z0-9])")
BRACKET_AT = r"\s*[\[({]\s*(?:at|@)\s*[\])}]\s*"
BRACKET_DOT = r"\s*[\[({]\s*(?:dot|\.)\s*[\])}]\s*"
SPACED_DOT = rf"(?:{BRACKET_DOT}|\s*\.\s*)"
OBFUSCATED_ADDRESS = re.compile(
    rf"(?<![\w.%+-])({LOCAL}){BRACKET_AT}"
    rf"((?:[A-Za-z0-9-]+(?:{BRACKET_DOT}|\.))+[A-Za-z]{{2,63}})(?![\w-])",
    re.I,
)

USERNAME = r"[A-Za-z][A-Za-z0-9_]{3,31}"
TELEGRAM_LINK = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.)?"
    rf"(?:t|telegram){SPACED_DOT}(?:me|dog)\s*/\s*(?:s/)?({USERNAME})(?![\w+-])"
    rf"|tg://resolve\?domain=({USERNAME})(?![\w-])"
    rf"|(?<![\w.-])({USERNAME})\.t\.me(?![\w.-])",
    re.I,
)
TELEGRAM_AT = re.compile(rf"(?<![\w.@%+-])@({USERNAME})(?![\w@-]|\.[A-Za-z0-9])")
# "Telegram: @ name": a label word, then "@", a space and the name. As first written,
# (?:telegram|tg|телег\w*|телеграм\w*|тг)\s*:?\s*@…, it was quadratic twice over: "\s*:?\s*"
# splits a run of spaces every way, and every "телег" inside one long word read the rest of
# the word. Its matches end a word with the label (or hold "телег"), so this form starts only
# where a word does and finds, once, the first place in it where the label starts
# (``label``, the match's start as before); quantifiers are possessive.
TELEGRAM_SPACED_AT = re.compile(
    r"(?<!\w)(?>\w*?(?P<label>(?:telegram|tg|тг)(?!\w)|телег))\w*+\s*+(?::\s*+)?"
    rf"@\s+(?P<name>{USERNAME})(?![\w@-]|\.[A-Za-z0-9])",
    re.I,
)
TELEGRAM_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]")
# Paths of t.me links that are not usernames (invites, sticker sets, proxies, …).
TELEGRAM_PATHS = frozenset(
    {
        "addemoji", "addlist", "addstickers", "addtheme", "boost", "confirmphone", "invoice",
        "joinchat", "login", "proxy", "setlanguage", "share", "socks",
    }
)  # fmt: skip
SESSION_ID = re.compile(r"(?<![0-9A-Fa-f])(05[0-9A-Fa-f]{64})(?![0-9A-Fa-f])")

# Cheap necessary conditions, searched before the costly patterns above: each is a part that
# every match of its pattern contains (with the same flags), so a text without it has no
# match and the pattern is not run at all. Most pages have none of them.
AT_SIGN = re.compile("@")  # ADDRESS, TELEGRAM_AT
BRACKET_AT_HINT = re.compile(r"[\[({]\s*(?:at|@)\s*[\])}]", re.I)  # OBFUSCATED_ADDRESS
TELEGRAM_LINK_HINT = re.compile(
    rf"(?:t|telegram){SPACED_DOT}(?:me|dog)|tg://resolve\?domain=", re.I
)  # TELEGRAM_LINK: its first two alternatives hold these, the third ".t.me"
SPACED_AT_HINT = re.compile(r"@\s")  # TELEGRAM_SPACED_AT
SESSION_HINT = re.compile("05")  # SESSION_ID

JABBER_LABEL = re.compile(r"jabber|xmpp|\bjid\b|джаббер|жаббер", re.I)
ANY_LABEL = re.compile(
    r"jabber|xmpp|\bjid\b|джаббер|жаббер|e-?mail|\bmail\b|почта|telegram|session|\btg\b", re.I
)


def visible_text(response: TextResponse) -> str:
    """What a reader sees of the page: for HTML, no tags, scripts, styles or PGP armor.

    Inline tags vanish (``@<span>name</span>`` reads ``@name``); other tags break the line.
    """
    body = response.text
    content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    if isinstance(response, HtmlResponse) or "html" in content_type:
        body = sub_spans(body, script_or_style_spans(body, SCRIPT_OR_STYLE), lambda _: "\n")
        body = unescape(sub_tags(TAG, "\n", sub_tags(INLINE_TAG, "", body)))
    return sub_spans(body, armor_spans(body), lambda _: "\n")


def valid_address(local: str, domain: str) -> bool:
    """The offline checks of RFC 5321: local part ≤ 64 octets, address ≤ 254, labels ≤ 63."""
    address = f"{local}@{domain}"
    return (
        len(local.encode()) <= 64
        and len(address.encode()) <= 254
        and all(0 < len(label) <= 63 for label in domain.split("."))
    )


def valid_telegram(name: str) -> bool:
    """Telegram's username rules: 5–32 of ``[A-Za-z0-9_]``, a letter first, no ``_`` last."""
    return TELEGRAM_USERNAME.fullmatch(name) is not None and name.lower() not in TELEGRAM_PATHS


def _address_type(text: str, start: int) -> str:
    """``jabber`` when the nearest label written before ``start`` names XMPP, else ``email``."""
    before = text[max(0, start - LABEL_REACH) : start]
    labels = list(ANY_LABEL.finditer(before))
    return "jabber" if labels and JABBER_LABEL.fullmatch(labels[-1].group(0)) else "email"


def contacts(text: str) -> Iterator[tuple[str, str, int]]:
    """Every ``(type, value, offset)`` contact in ``text``, in no particular order."""
    for match in _finditer(AT_SIGN, ADDRESS, text):
        local, domain = match.groups()
        if valid_address(local, domain):
            kind = _address_type(text, match.start())
            yield kind, f"{local}@{domain}".lower(), match.start()
    for match in _finditer(BRACKET_AT_HINT, OBFUSCATED_ADDRESS, text):
        local = match.group(1)
        domain = re.sub(BRACKET_DOT, ".", match.group(2), flags=re.I)
        if valid_address(local, domain):
            kind = _address_type(text, match.start())
            yield kind, f"{local}@{domain}".lower(), match.start()
    for hint, pattern in (
        (TELEGRAM_LINK_HINT, TELEGRAM_LINK),
        (AT_SIGN, TELEGRAM_AT),
        (SPACED_AT_HINT, TELEGRAM_SPACED_AT),
    ):
        for match in _finditer(hint, pattern, text):
            if "name" in pattern.groupindex:
                name, start = match.group("name"), match.start("label")
            else:
                name, start = next(group for group in match.groups() if group), match.start()
            if valid_telegram(name):
                yield "telegram", name, start
    for match in _finditer(SESSION_HINT, SESSION_ID, text):
        yield "session", match.group(1).lower(), match.start()


def _finditer(
    hint: re.Pattern[str], pattern: re.Pattern[str], text: str
) -> Iterator[re.Match[str]]:
    """``pattern``'s matches in ``text``; none without looking when ``hint`` is not there."""
    return pattern.finditer(text) if hint.search(text) else iter(())


@hookimpl
def onionlab_extract(response: TextResponse) -> Iterator[Item] | None:
    if not isinstance(response, TextResponse):
        return None
    text = visible_text(response)
    found: dict[tuple[str, str], int] = {}
    for kind, value, offset in contacts(text):
        found.setdefault((kind, value), offset)
    if not found:
        return None
    site = (urlsplit(response.url).hostname or "").lower()
    return (
        Entity(
            type=kind,
            value=value,
            url=response.url,
            site=site,
            context=" ".join(text[max(0, offset - CONTEXT) : offset + CONTEXT].split()),
        )
        for (kind, value), offset in found.items()
    )
