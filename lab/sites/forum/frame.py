"""The frame of the forum's pages and the pieces several pages share.

``Frame`` holds the forum's content and lookups (users, boards, threads per board) and the
sidebar; ``page`` wraps a body in the forum's chrome; ``user_link``, ``pager`` (the shared
``onionlab.lab.sites.pagination``) and ``board_rows`` are reused by the pages. ``linkify``,
``time_tag`` and ``tag`` format post text, timestamps and thread tags. The CSS classes are the
forum's public face that extractors are written against; keep them stable.
Depends only on the standard library and ``onionlab.lab.world``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from onionlab.lab.sites.pagination import Pager
from onionlab.lab.world.kinds import forum as F
from onionlab.lab.world.model import Service, World

_CSS = """
body{background:#1b1b22;color:#d8d8e0;font:14px/1.5 "Trebuchet MS",Helvetica,sans-serif;margin:0}
a{color:#b49cff;text-decoration:none}a:hover{text-decoration:underline}
header.site-head{background:#26212f;border-bottom:3px solid #7c5cff;padding:10px 18px;
  display:flex;gap:16px;align-items:baseline}
.logo{font:bold 24px Georgia,serif;color:#fff}.tagline{color:#9a94a8;font-size:12px}
nav.topnav{margin-left:auto;display:flex;gap:14px}
.container{display:flex;gap:18px;max-width:1180px;margin:16px auto;padding:0 14px}
main.content{flex:1;min-width:0}
aside.sidebar{width:220px;flex:none;background:#23222b;border:1px solid #34323f;padding:10px;
  font-size:13px;align-self:flex-start}
aside.sidebar h3{margin:4px 0 6px;color:#9a94a8;font-size:12px;text-transform:uppercase}
aside.sidebar ul{list-style:none;margin:0 0 10px;padding:0}
.crumbs{color:#9a94a8;font-size:12px;margin-bottom:8px}
table.boards,table.threads{width:100%;border-collapse:collapse;background:#23222b}
table.boards th,table.threads th{background:#2d2a38;text-align:left;font-size:12px;padding:6px}
table.boards td,table.threads td{border-top:1px solid #34323f;padding:6px;vertical-align:top}
.b-desc{margin:2px 0 0;color:#9a94a8;font-size:12px}
.tag{font-weight:bold;font-size:12px;padding:0 3px;border-radius:2px}
.tag-review{color:#7fd17f}.tag-scam{color:#ff6b6b}.tag-official{color:#ffd166}
.tag-psa{color:#5ec8ff}.pinned{color:#ffd166;font-size:11px}
.t-pages{font-size:11px;color:#9a94a8}
.pagination{margin:12px 0;display:flex;gap:6px;align-items:center}
.pagination a,.pagination span{padding:2px 8px;border:1px solid #34323f}
.pagination .current{background:#7c5cff;color:#fff}
article.post{display:flex;background:#23222b;border:1px solid #34323f;margin:10px 0}
aside.post-author{width:170px;flex:none;padding:10px;border-right:1px solid #34323f;
  display:flex;flex-direction:column;gap:3px;font-size:12px}
.author{font-weight:bold;font-size:14px}.role{color:#ffd166}.flair{color:#7fd17f}
.post-main{flex:1;padding:10px;min-width:0}.post-meta{color:#9a94a8;font-size:12px}
blockquote.quote{border-left:3px solid #7c5cff;margin:8px 0;padding:4px 10px;
  background:#1e1d25;color:#aaa6b8}
pre.pgp-signed,pre.pgp-key{background:#121217;border:1px solid #34323f;padding:8px;
  font-size:12px;overflow:auto;white-space:pre}
.post-sig{border-top:1px dashed #34323f;margin-top:8px;padding-top:4px;color:#8b8799;
  font-size:12px;display:flex;gap:12px;flex-wrap:wrap}
table.profile-info th{text-align:left;color:#9a94a8;padding:3px 14px 3px 0}
.official{border:1px dashed #7c5cff;padding:8px 12px;margin:14px 0}
footer{text-align:center;color:#6d6a7a;font-size:12px;padding:20px}
"""
_ONION_URL = re.compile(r"http://[a-z2-7]{56}\.onion/(?:[^\s<]*[^\s<.,;:!?)»])?")
ROLES = {"admin": "Administrator", "moderator": "Moderator", "vendor": "Vendor", "member": ""}
RU_LABELS = {
    "author": "Автор",
    "created": "Создана",
    "replies": "Ответов",
    "views": "Просмотров",
    "last": "Последний ответ",
    "topic": "Тема",
    "by": "от",
    "pages": "Стр.",
}
EN_LABELS = {
    "author": "Author",
    "created": "Started",
    "replies": "Replies",
    "views": "Views",
    "last": "Last post",
    "topic": "Thread",
    "by": "by",
    "pages": "Pages",
}


def esc(text: str) -> str:
    return escape(text, quote=True)


def linkify(text: str) -> str:
    """Escape ``text``; onion URLs become links (the forum auto-links them); keep line breaks."""
    out, last = [], 0
    for match in _ONION_URL.finditer(text):
        out.append(esc(text[last : match.start()]))
        url = match.group(0)
        out.append(
            f'<a class="onion-link" href="{esc(url)}" rel="nofollow noreferrer">{esc(url)}</a>'
        )
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out).replace("\n", "<br>\n")


def time_tag(ts: int, cls: str) -> str:
    return f'<time class="{cls}" datetime="{F.iso_time(ts)}">{F.fmt_time(ts)}</time>'


def tag(code: str, lang: str) -> str:
    if not code:
        return ""
    label = F.TAGS[code][1 if lang == "ru" else 0]
    return f'<span class="tag tag-{code.lower()}" data-tag="{code}">{esc(label)}</span> '


PAGER = Pager(
    prev='<a class="prev" rel="prev" href="{href}">&laquo;</a>',
    current='<span class="page-num current">{n}</span>',
    link='<a class="page-num" href="{href}">{n}</a>',
    next='<a class="next" rel="next" href="{href}">&raquo;</a>',
)


class Frame:
    """The shared state and chrome of every page of one forum service."""

    def __init__(self, world: World, service: Service) -> None:
        self.svc = service
        self.c = F.content_of(service)
        self.users = {u.handle: u for u in self.c.users}
        self.boards = {b.slug: b for b in self.c.boards}
        self.post_counts = F.user_posts(self.c)
        self.by_board: dict[str, list[F.Thread]] = {
            b.slug: F.board_threads(self.c, b.slug) for b in self.c.boards
        }
        en = [b for b in self.c.boards if b.lang == "en"]
        ru = [b for b in self.c.boards if b.lang == "ru"]
        items = "".join(
            f'<li><a href="{F.board_path(b.slug)}">/d/{esc(b.slug)}</a></li>' for b in en
        )
        ru_items = "".join(
            f'<li><a href="{F.board_path(b.slug)}">{esc(b.name)}</a></li>' for b in ru
        )
        self.sidebar = (
            '<aside class="sidebar"><h3>Boards</h3>'
            f'<ul class="board-nav">{items}</ul><h3>Русский</h3>'
            f'<ul class="board-nav">{ru_items}</ul>'
            f'<h3>Staff</h3><ul><li><a href="{F.PGP_PATH}">PGP key &amp; official link</a></li>'
            "</ul></aside>"
        )

    def page(self, title: str, body: str, lang: str = "en") -> bytes:
        svc = self.svc
        html = (
            f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{esc(title)} — {esc(svc.title)}</title><style>{_CSS}</style></head><body>"
            f'<header class="site-head"><a class="logo" href="/">{esc(svc.title)}</a>'
            f'<span class="tagline">{esc(svc.tagline)}</span><nav class="topnav">'
            f'<a href="/">Boards</a><a href="{F.board_path("announcements")}">Announcements</a>'
            f'<a href="{F.board_path("scams")}">Scams</a><a href="{F.PGP_PATH}">PGP</a></nav>'
            f'</header><div class="container"><main class="content">{body}</main>'
            f"{self.sidebar}</div><footer>{esc(svc.title)} · no JavaScript, ever · "
            "we will never ask for your password or coins</footer></body></html>\n"
        )
        return html.encode("utf-8")

    # -- pieces --

    def user_link(self, handle: str, cls: str = "") -> str:
        attr = f' class="{cls}"' if cls else ""
        return f'<a{attr} href="{F.user_path(handle)}">{esc(handle)}</a>'

    def pager(self, total: int, number: int, path_of: Callable[[int], str]) -> str:
        if total <= 1:
            return ""
        nav = PAGER.links(total, number, path_of)
        return f'<div class="pagination">{"".join(nav)}</div>'

    def board_rows(self, boards: list[F.Board]) -> str:
        rows = []
        for board in boards:
            if board.sections:
                subs = [b for b in self.c.boards if b.parent == board.slug]
                threads = [t for b in subs for t in self.by_board[b.slug]]
            else:
                threads = self.by_board[board.slug]
            posts = sum(len(t.posts) for t in threads)
            latest = max(threads, key=lambda t: t.last.created, default=None)
            last = (
                f"{time_tag(latest.last.created, 'b-last-time')} · "
                f'<a href="{F.thread_path(latest.tid)}">{esc(latest.title)}</a>'
                if latest
                else "—"
            )
            rows.append(
                f'<tr class="board-row" data-slug="{esc(board.slug)}">'
                f'<td class="b-name"><a href="{F.board_path(board.slug)}">{esc(board.name)}</a>'
                f'<p class="b-desc">{esc(board.description)}</p></td>'
                f'<td class="b-threads">{len(threads)}</td><td class="b-posts">{posts}</td>'
                f'<td class="b-last">{last}</td></tr>'
            )
        return (
            '<table class="boards"><thead><tr><th>Board</th><th>Threads</th><th>Posts</th>'
            f"<th>Latest</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
