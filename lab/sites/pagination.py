"""Pagination links of the lab sites: previous, every page number, next.

Each site keeps its own markup (classes, labels): a ``Pager`` holds its four templates and
``Pager.links`` fills them for one page of an index, building every href with the path
helper the world's ``paths`` module gives for that index; an empty ``prev`` or ``next`` template
leaves that link out. Depends on the standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pager:
    """One site's pagination markup; ``{href}`` and ``{n}`` are filled per link."""

    prev: str  # e.g. '<a class="prev" rel="prev" href="{href}">&laquo; Prev</a>'
    current: str  # e.g. '<span class="page-num current">{n}</span>'
    link: str  # e.g. '<a class="page-num" href="{href}">{n}</a>'
    next: str  # e.g. '<a class="next" rel="next" href="{href}">Next &raquo;</a>'

    def links(self, total: int, number: int, path_of: Callable[[int], str]) -> list[str]:
        """The links of page ``number`` of ``total``: prev (if any), 1..total, next (if any)."""
        nav = []
        if number > 1 and self.prev:
            nav.append(self.prev.format(href=path_of(number - 1)))
        for n in range(1, total + 1):
            template = self.current if n == number else self.link
            nav.append(template.format(href=path_of(n), n=n))
        if number < total and self.next:
            nav.append(self.next.format(href=path_of(number + 1)))
        return nav
