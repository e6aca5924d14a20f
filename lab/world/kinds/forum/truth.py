"""The forum's ground truth: its pages, identifier occurrences, decoys and vendors.

Depends on ``onionlab.lab.world.layout`` and the forum's content and paths.
"""

from __future__ import annotations

from typing import Any

from onionlab.lab.world.kinds.forum.content import (
    bare,
    board_page_count,
    content_of,
    expand,
    post_page,
    thread_page_count,
)
from onionlab.lab.world.kinds.forum.paths import PGP_PATH, board_path, thread_path, user_path
from onionlab.lab.world.layout import Occurrence, Page
from onionlab.lab.world.model import Service


def pages(service: Service) -> list[Page]:
    content = content_of(service)
    found = [Page("/", "home"), Page(PGP_PATH, "pgp")]
    for board in content.boards:
        if board.sections:
            found.append(Page(board_path(board.slug), "sections", board.slug))
            continue
        for n in range(1, board_page_count(content, board.slug) + 1):
            found.append(Page(board_path(board.slug, n), "board", board.slug, n))
    for thread in content.threads:
        for n in range(1, thread_page_count(content, thread) + 1):
            found.append(Page(thread_path(thread.tid, n), "thread", thread.tid, n))
    found += [Page(user_path(u.handle), "user", u.handle) for u in content.users]
    return found


def _page_items(service: Service) -> tuple[list[Occurrence], list[Occurrence]]:
    content = content_of(service)
    users = {u.handle: u for u in content.users}
    valid: set[Occurrence] = {Occurrence("onion", bare(service.onion), "/")}
    bad: set[Occurrence] = set()
    valid.add(Occurrence("onion", bare(service.onion), PGP_PATH))
    valid.add(Occurrence("pgp_fingerprint", content.admin_key.fingerprint, PGP_PATH))
    for thread in content.threads:
        for post in thread.posts:
            path = thread_path(thread.tid, post_page(content, post.number))
            author = users[post.author]
            for kind, value in post.found:
                valid.update(Occurrence(k, v, path) for k, v in expand(kind, value))
            bad.update(Occurrence(k, v, path) for k, v in post.decoys)
            if author.sig_fpr and author.pgp is not None:
                valid.add(Occurrence("pgp_fingerprint", author.pgp.fingerprint, path))
            if author.sig_tip is not None:
                valid.add(Occurrence(*author.sig_tip, path))
    for user in content.users:
        path = user_path(user.handle)
        if user.pgp is not None:
            valid.add(Occurrence("pgp_fingerprint", user.pgp.fingerprint, path))
        for kind, value in (*user.contacts, *user.wallets):
            valid.update(Occurrence(k, v, path) for k, v in expand(kind, value))
    order = lambda o: (o.path, o.type, o.value)  # noqa: E731
    return sorted(valid, key=order), sorted(bad, key=order)


def occurrences(service: Service) -> list[Occurrence]:
    return _page_items(service)[0]


def decoys(service: Service) -> list[Occurrence]:
    return _page_items(service)[1]


def truth_listings(service: Service) -> list[dict[str, Any]]:
    return []


def truth_vendors(service: Service) -> list[dict[str, Any]]:
    content = content_of(service)
    base = f"http://{service.onion.lower()}"
    return [
        {
            "site": service.name,
            "handle": u.handle,
            "identity": u.identity,
            "url": base + user_path(u.handle),
            "pgp_fingerprint": u.pgp.fingerprint if u.pgp else "",
            "btc": sorted(v for k, v in u.wallets if k == "btc"),
            "wallets": [{"type": k, "value": v} for k, v in u.wallets],
            "contacts": [{"type": k, "value": v} for k, v in u.contacts],
            "markets": list(u.markets),
        }
        for u in content.users
        if u.role == "vendor"
    ]
