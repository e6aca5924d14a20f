"""HTML of the forum: server-rendered, no JavaScript, root-relative links, UTF-8.

``render_pages(world, service)`` returns ``{"/path?query": html_bytes}`` for every page of
``onionlab.lab.world.kinds.forum.pages`` and the branded 404 page. The CSS classes are the forum's
public face that extractors are written against; keep them stable.
Depends only on the standard library, ``onionlab.lab.world`` and
``onionlab.lab.sites.market.render``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from onionlab.lab.sites.market.render import group_fingerprint
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
_ROLES = {"admin": "Administrator", "moderator": "Moderator", "vendor": "Vendor", "member": ""}
_RU = {
    "author": "Автор",
    "created": "Создана",
    "replies": "Ответов",
    "views": "Просмотров",
    "last": "Последний ответ",
    "topic": "Тема",
    "by": "от",
    "pages": "Стр.",
}
_EN = {
    "author": "Author",
    "created": "Started",
    "replies": "Replies",
    "views": "Views",
    "last": "Last post",
    "topic": "Thread",
    "by": "by",
    "pages": "Pages",
}


def _e(text: str) -> str:
    return escape(text, quote=True)


def _linkify(text: str) -> str:
    """Escape ``text``; onion URLs become links (the forum auto-links them); keep line breaks."""
    out, last = [], 0
    for match in _ONION_URL.finditer(text):
        out.append(_e(text[last : match.start()]))
        url = match.group(0)
        out.append(
            f'<a class="onion-link" href="{_e(url)}" rel="nofollow noreferrer">{_e(url)}</a>'
        )
        last = match.end()
    out.append(_e(text[last:]))
    return "".join(out).replace("\n", "<br>\n")


def _time(ts: int, cls: str) -> str:
    return f'<time class="{cls}" datetime="{F.iso_time(ts)}">{F.fmt_time(ts)}</time>'


def _tag(code: str, lang: str) -> str:
    if not code:
        return ""
    label = F.TAGS[code][1 if lang == "ru" else 0]
    return f'<span class="tag tag-{code.lower()}" data-tag="{code}">{_e(label)}</span> '


_PAGER = Pager(
    prev='<a class="prev" rel="prev" href="{href}">&laquo;</a>',
    current='<span class="page-num current">{n}</span>',
    link='<a class="page-num" href="{href}">{n}</a>',
    next='<a class="next" rel="next" href="{href}">&raquo;</a>',
)


class _Renderer:
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
            f'<li><a href="{F.board_path(b.slug)}">/d/{_e(b.slug)}</a></li>' for b in en
        )
        ru_items = "".join(
            f'<li><a href="{F.board_path(b.slug)}">{_e(b.name)}</a></li>' for b in ru
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
            f"<title>{_e(title)} — {_e(svc.title)}</title><style>{_CSS}</style></head><body>"
            f'<header class="site-head"><a class="logo" href="/">{_e(svc.title)}</a>'
            f'<span class="tagline">{_e(svc.tagline)}</span><nav class="topnav">'
            f'<a href="/">Boards</a><a href="{F.board_path("announcements")}">Announcements</a>'
            f'<a href="{F.board_path("scams")}">Scams</a><a href="{F.PGP_PATH}">PGP</a></nav>'
            f'</header><div class="container"><main class="content">{body}</main>'
            f"{self.sidebar}</div><footer>{_e(svc.title)} · no JavaScript, ever · "
            "we will never ask for your password or coins</footer></body></html>\n"
        )
        return html.encode("utf-8")

    # -- pieces --

    def user_link(self, handle: str, cls: str = "") -> str:
        attr = f' class="{cls}"' if cls else ""
        return f'<a{attr} href="{F.user_path(handle)}">{_e(handle)}</a>'

    def pager(self, total: int, number: int, path_of: Callable[[int], str]) -> str:
        if total <= 1:
            return ""
        nav = _PAGER.links(total, number, path_of)
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
                f"{_time(latest.last.created, 'b-last-time')} · "
                f'<a href="{F.thread_path(latest.tid)}">{_e(latest.title)}</a>'
                if latest
                else "—"
            )
            rows.append(
                f'<tr class="board-row" data-slug="{_e(board.slug)}">'
                f'<td class="b-name"><a href="{F.board_path(board.slug)}">{_e(board.name)}</a>'
                f'<p class="b-desc">{_e(board.description)}</p></td>'
                f'<td class="b-threads">{len(threads)}</td><td class="b-posts">{posts}</td>'
                f'<td class="b-last">{last}</td></tr>'
            )
        return (
            '<table class="boards"><thead><tr><th>Board</th><th>Threads</th><th>Posts</th>'
            f"<th>Latest</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    # -- pages --

    def home(self) -> bytes:
        top = [b for b in self.c.boards if not b.parent and b.lang == "en"]
        ru = [b for b in self.c.boards if b.lang == "ru"]
        body = (
            f'<section class="board-group" data-lang="en"><h2>Boards</h2>{self.board_rows(top)}'
            '</section><section class="board-group" data-lang="ru"><h2>Русский раздел</h2>'
            f"{self.board_rows(ru)}</section>"
            '<div class="official"><p>Our only address (verify the signed notice on the '
            f'<a href="{F.PGP_PATH}">PGP page</a>):<br><code class="onion">'
            f"http://{_e(self.svc.onion)}/</code></p></div>"
        )
        return self.page("Boards", body)

    def sections(self, board: F.Board) -> bytes:
        subs = [b for b in self.c.boards if b.parent == board.slug]
        body = (
            f'<div class="crumbs"><a href="/">Главная</a> &rsaquo; {_e(board.name)}</div>'
            f'<h1 class="board-title">{_e(board.name)}</h1>'
            f'<p class="board-desc">{_e(board.description)}</p>{self.board_rows(subs)}'
        )
        return self.page(board.name, body, board.lang)

    def board(self, board: F.Board, number: int) -> bytes:
        words = _RU if board.lang == "ru" else _EN
        threads = self.by_board[board.slug]
        per = self.c.threads_per_page
        total = F.board_page_count(self.c, board.slug)
        rows = []
        for t in threads[(number - 1) * per : number * per]:
            pages = F.thread_page_count(self.c, t)
            links = ""
            if pages > 1:
                links = (
                    f' <span class="t-pages">{words["pages"]}: '
                    + " ".join(
                        f'<a href="{F.thread_path(t.tid, n)}">{n}</a>' for n in range(1, pages + 1)
                    )
                    + "</span>"
                )
            pin = '<span class="pinned">[pinned]</span> ' if t.pinned else ""
            rows.append(
                f'<tr class="thread-row" data-id="{t.tid}" data-tag="{t.tag}">'
                f'<td class="t-title">{pin}{_tag(t.tag, board.lang)}'
                f'<a class="thread-link" href="{F.thread_path(t.tid)}">{_e(t.title)}</a>'
                f"{links}</td>"
                f'<td class="t-author">{self.user_link(t.author)}</td>'
                f'<td class="t-created">{_time(t.created, "created")}</td>'
                f'<td class="t-replies">{len(t.posts) - 1}</td><td class="t-views">{t.views}</td>'
                f'<td class="t-last">{_time(t.last.created, "last-time")} {words["by"]} '
                f"{self.user_link(t.last.author, 'last-author')}</td></tr>"
            )
        crumbs = '<a href="/">Home</a>'
        if board.parent:
            parent = self.boards[board.parent]
            crumbs += f' &rsaquo; <a href="{F.board_path(parent.slug)}">{_e(parent.name)}</a>'
        body = (
            f'<div class="crumbs">{crumbs} &rsaquo; {_e(board.name)}</div>'
            f'<h1 class="board-title">/d/{_e(board.slug)} — {_e(board.name)}</h1>'
            f'<p class="board-desc">{_e(board.description)}</p>'
            f'<p class="board-info">Page {number} of {total} · {len(threads)} threads</p>'
            f'<table class="threads"><thead><tr><th>{words["topic"]}</th>'
            f"<th>{words['author']}</th><th>{words['created']}</th><th>{words['replies']}</th>"
            f"<th>{words['views']}</th><th>{words['last']}</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            + self.pager(total, number, lambda n: F.board_path(board.slug, n))
        )
        title = board.name if number == 1 else f"{board.name} — page {number}"
        return self.page(title, body, board.lang)

    def post(self, thread: F.Thread, post: F.Post) -> str:
        user = self.users[post.author]
        role = _ROLES[user.role]
        parts = [self.user_link(user.handle, "author")]
        if role:
            parts.append(f'<span class="role role-{user.role}">{role}</span>')
        if user.flair:
            parts.append(f'<span class="flair">{_e(user.flair)}</span>')
        parts.append(f'<span class="rep">Rep: <b class="reputation">{user.reputation}</b></span>')
        parts.append(f'<span class="joined">Joined {user.joined}</span>')
        quote = ""
        if post.quote is not None:
            q = post.quote
            href = F.thread_path(thread.tid, F.post_page(self.c, q.number)) + f"#p{q.number}"
            quote = (
                f'<blockquote class="quote" data-post="{q.number}"><cite class="quote-author">'
                f'<a href="{href}">{_e(q.author)}</a> wrote (#{q.number}):</cite>'
                f'<p class="quote-text">{_e(q.text)}</p></blockquote>'
            )
        body = "".join(f"<p>{_linkify(p)}</p>" for p in post.paragraphs)
        signed = f'<pre class="pgp-signed">{_e(post.signed)}</pre>' if post.signed else ""
        sig = []
        if user.signature:
            sig.append(f'<span class="sig-text">{_e(user.signature)}</span>')
        if user.sig_fpr and user.pgp is not None:
            sig.append(
                '<span class="sig-pgp">PGP: <code class="fpr">'
                f"{group_fingerprint(user.pgp.fingerprint)}</code></span>"
            )
        if user.sig_tip is not None:
            kind, value = user.sig_tip
            sig.append(
                f'<span class="sig-tip" data-type="{kind}">{kind.upper()} tips: '
                f'<code class="tip-address">{value}</code></span>'
            )
        sig_html = f'<div class="post-sig">{"".join(sig)}</div>' if sig else ""
        return (
            f'<article class="post" id="p{post.number}" data-number="{post.number}" '
            f'data-author="{_e(user.handle)}"><aside class="post-author">{"".join(parts)}</aside>'
            f'<div class="post-main"><div class="post-meta"><span class="post-num">'
            f"#{post.number}</span> {_time(post.created, 'post-time')}</div>"
            f'{quote}<div class="post-body">{body}</div>{signed}{sig_html}</div></article>'
        )

    def thread(self, thread: F.Thread, number: int) -> bytes:
        board = self.boards[thread.board]
        words = _RU if board.lang == "ru" else _EN
        per = self.c.posts_per_page
        total = F.thread_page_count(self.c, thread)
        posts = "".join(
            self.post(thread, p) for p in thread.posts[(number - 1) * per : number * per]
        )
        crumbs = '<a href="/">Home</a>'
        if board.parent:
            parent = self.boards[board.parent]
            crumbs += f' &rsaquo; <a href="{F.board_path(parent.slug)}">{_e(parent.name)}</a>'
        crumbs += f' &rsaquo; <a href="{F.board_path(board.slug)}">{_e(board.name)}</a>'
        pager = self.pager(total, number, lambda n: F.thread_path(thread.tid, n))
        body = (
            f'<div class="crumbs">{crumbs}</div>'
            f'<div class="thread" data-id="{thread.tid}" data-board="{_e(board.slug)}">'
            f'<h1 class="thread-title">{_tag(thread.tag, board.lang)}{_e(thread.title)}</h1>'
            f'<p class="thread-meta">{words["author"]}: '
            f"{self.user_link(thread.author, 't-author')} · {_time(thread.created, 't-created')}"
            f' · {words["replies"]}: <span class="t-replies">{len(thread.posts) - 1}</span>'
            f' · {words["views"]}: <span class="t-views">{thread.views}</span>'
            f' · page <span class="t-page">{number}</span> of {total}</p>'
            f"{pager}{posts}{pager}</div>"
        )
        title = thread.title if number == 1 else f"{thread.title} — page {number}"
        return self.page(title, body, board.lang)

    def user(self, user: F.User) -> bytes:
        rows = [
            ("Role", "role", _ROLES[user.role] or "Member"),
            ("Joined", "joined", user.joined),
            ("Posts", "post-count", str(self.post_counts.get(user.handle, 0))),
            ("Reputation", "reputation", str(user.reputation)),
        ]
        if user.flair:
            rows.append(("Flair", "flair", user.flair))
        info = "".join(f'<tr><th>{k}</th><td class="{c}">{_e(v)}</td></tr>' for k, c, v in rows)
        labels = {
            "telegram": "Telegram",
            "jabber": "Jabber",
            "session": "Session",
            "email": "E-mail",
        }
        contacts = "".join(
            f'<li class="contact" data-type="{k}">{labels.get(k, k)}: '
            f'{"@" if k == "telegram" else ""}<span class="contact-value">{_e(v)}</span></li>'
            for k, v in user.contacts
        )
        wallets = "".join(
            f'<li class="wallet" data-type="{k}">{k.upper()}: '
            f'<code class="wallet-address">{v}</code></li>'
            for k, v in user.wallets
        )
        started = [t for t in self.c.threads if t.author == user.handle]
        started.sort(key=lambda t: (-t.created, t.tid))
        recent = "".join(
            f'<li><a href="{F.thread_path(t.tid)}">{_e(t.title)}</a></li>' for t in started[:10]
        )
        body = (
            f'<div class="profile" data-handle="{_e(user.handle)}">'
            f'<h1 class="profile-handle">{_e(user.handle)}</h1>'
            f'<table class="profile-info"><tbody>{info}</tbody></table>'
        )
        if contacts:
            body += f'<section class="contacts"><h2>Contact</h2><ul>{contacts}</ul></section>'
        if wallets:
            body += f'<section class="wallets"><h2>Direct payment</h2><ul>{wallets}</ul></section>'
        if user.pgp is not None:
            body += (
                '<section class="pgp"><h2>PGP public key</h2><p class="fingerprint">'
                f'Fingerprint: <code class="fpr">{group_fingerprint(user.pgp.fingerprint)}'
                f'</code></p><pre class="pgp-key">{_e(user.pgp.armored.rstrip())}</pre></section>'
            )
        if recent:
            body += f'<section class="threads-started"><h2>Threads started</h2><ul>{recent}</ul>'
            body += "</section>"
        body += "</div>"
        return self.page(f"Profile of {user.handle}", body, user.lang)

    def pgp(self) -> bytes:
        key = self.c.admin_key
        body = (
            "<h1>Official address and PGP key</h1><p>The notice below is signed with the "
            f"administrator's key ({self.user_link(self.c.admin)}). Verify it with gpg.</p>"
            f'<pre class="pgp-signed">{_e(self.c.pgp_notice)}</pre>'
            '<section class="pgp"><h2>Admin key</h2><p class="fingerprint">Fingerprint: '
            f'<code class="fpr">{group_fingerprint(key.fingerprint)}</code></p>'
            f'<pre class="pgp-key">{_e(key.armored.rstrip())}</pre></section>'
        )
        return self.page("PGP", body)

    def not_found(self) -> bytes:
        body = (
            '<div class="error"><h1>404 — nothing here</h1><p>This thread was removed by a '
            'moderator or never existed.</p><p><a href="/">Back to the boards</a></p></div>'
        )
        return self.page("Not found", body)


def render_pages(world: World, service: Service) -> tuple[dict[str, bytes], bytes]:
    """Render every page of the forum: ``({path_qs: html}, not_found_html)``."""
    r = _Renderer(world, service)
    threads = {t.tid: t for t in r.c.threads}
    out: dict[str, bytes] = {}
    for page in F.pages(service):
        if page.kind == "home":
            out[page.path] = r.home()
        elif page.kind == "pgp":
            out[page.path] = r.pgp()
        elif page.kind == "sections":
            out[page.path] = r.sections(r.boards[page.key])
        elif page.kind == "board":
            out[page.path] = r.board(r.boards[page.key], page.number)
        elif page.kind == "thread":
            out[page.path] = r.thread(threads[page.key], page.number)
        elif page.kind == "user":
            out[page.path] = r.user(r.users[page.key])
        else:  # pragma: no cover - a page kind without a renderer is a bug
            raise ValueError(f"no renderer for page kind {page.kind!r}")
    return out, r.not_found()
