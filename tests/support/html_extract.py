"""A small HTML reader for the site tests: links, and text and attributes by class.

``parse(html)`` returns an ``Extract`` with every ``<a href>`` in document order
(``links``), and for every CSS class (and every ``data-field="x"`` as ``field:x``) the
stripped text (``text``), the unstripped text (``raw``) and the attributes (``attrs``) of
its elements, in document order. ``page_text(html)`` is what a reader sees: tags
replaced by spaces, entities decoded.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

VOID = {"br", "meta", "img", "input", "link"}


class Extract(HTMLParser):
    """Links, plus the text and attributes of every element by class and by data-field."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: dict[str, list[str]] = {}
        self.raw: dict[str, list[str]] = {}
        self.attrs: dict[str, list[dict[str, str | None]]] = {}
        self._open: list[tuple[str, list[str], list[str]]] = []  # (tag, names, text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in VOID:
            return
        names = (a.get("class") or "").split()
        if a.get("data-field"):
            names.append("field:" + a["data-field"])
        for name in names:
            self.attrs.setdefault(name, []).append(a)
        self._open.append((tag, names, []))

    def handle_endtag(self, tag):
        while self._open:
            open_tag, names, buf = self._open.pop()
            text = "".join(buf)
            for name in names:
                self.raw.setdefault(name, []).append(text)
                self.text.setdefault(name, []).append(text.strip())
            if self._open:
                self._open[-1][2].append(text)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)


def parse(html: str) -> Extract:
    x = Extract()
    x.feed(html)
    x.close()
    return x


def page_text(html: str) -> str:
    """The page as text: every tag replaced by a space, entities decoded."""
    return unescape(re.sub(r"<[^>]*>", " ", html))
