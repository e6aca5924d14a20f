"""HTML of the forum: server-rendered, no JavaScript, root-relative links, UTF-8.

``render_pages(world, service)`` returns ``{"/path?query": html_bytes}`` for every page of
``onionlab.lab.world.kinds.forum.pages`` and the branded 404 page; the chrome and shared pieces
are in ``frame``. The CSS classes are the forum's public face that extractors are written
against; keep them stable.
Depends only on the standard library, ``onionlab.lab.world`` and
``onionlab.lab.sites.market.render``.
"""

from __future__ import annotations

from onionlab.lab.sites.forum.frame import (
    EN_LABELS,
    ROLES,
    RU_LABELS,
    Frame,
    esc,
    linkify,
    tag,
    time_tag,
)
from onionlab.lab.sites.market.render import group_fingerprint
from onionlab.lab.world.kinds import forum as F
from onionlab.lab.world.model import Service, World


class _Renderer(Frame):
    """Every page of one forum service."""

    def home(self) -> bytes:
        top = [b for b in self.c.boards if not b.parent and b.lang == "en"]
        ru = [b for b in self.c.boards if b.lang == "ru"]
        body = (
            f'<section class="board-group" data-lang="en"><h2>Boards</h2>{self.board_rows(top)}'
            '</section><section class="board-group" data-lang="ru"><h2>Русский раздел</h2>'
            f"{self.board_rows(ru)}</section>"
            '<div class="official"><p>Our only address (verify the signed notice on the '
            f'<a href="{F.PGP_PATH}">PGP page</a>):<br><code class="onion">'
            f"http://{esc(self.svc.onion)}/</code></p></div>"
        )
        return self.page("Boards", body)

    def sections(self, board: F.Board) -> bytes:
        subs = [b for b in self.c.boards if b.parent == board.slug]
        body = (
            f'<div class="crumbs"><a href="/">Главная</a> &rsaquo; {esc(board.name)}</div>'
            f'<h1 class="board-title">{esc(board.name)}</h1>'
            f'<p class="board-desc">{esc(board.description)}</p>{self.board_rows(subs)}'
        )
        return self.page(board.name, body, board.lang)

    def board(self, board: F.Board, number: int) -> bytes:
        words = RU_LABELS if board.lang == "ru" else EN_LABELS
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
                f'<td class="t-title">{pin}{tag(t.tag, board.lang)}'
                f'<a class="thread-link" href="{F.thread_path(t.tid)}">{esc(t.title)}</a>'
                f"{links}</td>"
                f'<td class="t-author">{self.user_link(t.author)}</td>'
                f'<td class="t-created">{time_tag(t.created, "created")}</td>'
                f'<td class="t-replies">{len(t.posts) - 1}</td><td class="t-views">{t.views}</td>'
                f'<td class="t-last">{time_tag(t.last.created, "last-time")} {words["by"]} '
                f"{self.user_link(t.last.author, 'last-author')}</td></tr>"
            )
        crumbs = '<a href="/">Home</a>'
        if board.parent:
            parent = self.boards[board.parent]
            crumbs += f' &rsaquo; <a href="{F.board_path(parent.slug)}">{esc(parent.name)}</a>'
        body = (
            f'<div class="crumbs">{crumbs} &rsaquo; {esc(board.name)}</div>'
            f'<h1 class="board-title">/d/{esc(board.slug)} — {esc(board.name)}</h1>'
            f'<p class="board-desc">{esc(board.description)}</p>'
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
        role = ROLES[user.role]
        parts = [self.user_link(user.handle, "author")]
        if role:
            parts.append(f'<span class="role role-{user.role}">{role}</span>')
        if user.flair:
            parts.append(f'<span class="flair">{esc(user.flair)}</span>')
        parts.append(f'<span class="rep">Rep: <b class="reputation">{user.reputation}</b></span>')
        parts.append(f'<span class="joined">Joined {user.joined}</span>')
        quote = ""
        if post.quote is not None:
            q = post.quote
            href = F.thread_path(thread.tid, F.post_page(self.c, q.number)) + f"#p{q.number}"
            quote = (
                f'<blockquote class="quote" data-post="{q.number}"><cite class="quote-author">'
                f'<a href="{href}">{esc(q.author)}</a> wrote (#{q.number}):</cite>'
                f'<p class="quote-text">{esc(q.text)}</p></blockquote>'
            )
        body = "".join(f"<p>{linkify(p)}</p>" for p in post.paragraphs)
        signed = f'<pre class="pgp-signed">{esc(post.signed)}</pre>' if post.signed else ""
        sig = []
        if user.signature:
            sig.append(f'<span class="sig-text">{esc(user.signature)}</span>')
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
            f'data-author="{esc(user.handle)}"><aside class="post-author">{"".join(parts)}</aside>'
            f'<div class="post-main"><div class="post-meta"><span class="post-num">'
            f"#{post.number}</span> {time_tag(post.created, 'post-time')}</div>"
            f'{quote}<div class="post-body">{body}</div>{signed}{sig_html}</div></article>'
        )

    def thread(self, thread: F.Thread, number: int) -> bytes:
        board = self.boards[thread.board]
        words = RU_LABELS if board.lang == "ru" else EN_LABELS
        per = self.c.posts_per_page
        total = F.thread_page_count(self.c, thread)
        posts = "".join(
            self.post(thread, p) for p in thread.posts[(number - 1) * per : number * per]
        )
        crumbs = '<a href="/">Home</a>'
        if board.parent:
            parent = self.boards[board.parent]
            crumbs += f' &rsaquo; <a href="{F.board_path(parent.slug)}">{esc(parent.name)}</a>'
        crumbs += f' &rsaquo; <a href="{F.board_path(board.slug)}">{esc(board.name)}</a>'
        pager = self.pager(total, number, lambda n: F.thread_path(thread.tid, n))
        body = (
            f'<div class="crumbs">{crumbs}</div>'
            f'<div class="thread" data-id="{thread.tid}" data-board="{esc(board.slug)}">'
            f'<h1 class="thread-title">{tag(thread.tag, board.lang)}{esc(thread.title)}</h1>'
            f'<p class="thread-meta">{words["author"]}: '
            f"{self.user_link(thread.author, 't-author')} · {time_tag(thread.created, 't-created')}"
            f' · {words["replies"]}: <span class="t-replies">{len(thread.posts) - 1}</span>'
            f' · {words["views"]}: <span class="t-views">{thread.views}</span>'
            f' · page <span class="t-page">{number}</span> of {total}</p>'
            f"{pager}{posts}{pager}</div>"
        )
        title = thread.title if number == 1 else f"{thread.title} — page {number}"
        return self.page(title, body, board.lang)

    def user(self, user: F.User) -> bytes:
        rows = [
            ("Role", "role", ROLES[user.role] or "Member"),
            ("Joined", "joined", user.joined),
            ("Posts", "post-count", str(self.post_counts.get(user.handle, 0))),
            ("Reputation", "reputation", str(user.reputation)),
        ]
        if user.flair:
            rows.append(("Flair", "flair", user.flair))
        info = "".join(f'<tr><th>{k}</th><td class="{c}">{esc(v)}</td></tr>' for k, c, v in rows)
        labels = {
            "telegram": "Telegram",
            "jabber": "Jabber",
            "session": "Session",
            "email": "E-mail",
        }
        contacts = "".join(
            f'<li class="contact" data-type="{k}">{labels.get(k, k)}: '
            f'{"@" if k == "telegram" else ""}<span class="contact-value">{esc(v)}</span></li>'
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
            f'<li><a href="{F.thread_path(t.tid)}">{esc(t.title)}</a></li>' for t in started[:10]
        )
        body = (
            f'<div class="profile" data-handle="{esc(user.handle)}">'
            f'<h1 class="profile-handle">{esc(user.handle)}</h1>'
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
                f'</code></p><pre class="pgp-key">{esc(user.pgp.armored.rstrip())}</pre></section>'
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
            f'<pre class="pgp-signed">{esc(self.c.pgp_notice)}</pre>'
            '<section class="pgp"><h2>Admin key</h2><p class="fingerprint">Fingerprint: '
            f'<code class="fpr">{group_fingerprint(key.fingerprint)}</code></p>'
            f'<pre class="pgp-key">{esc(key.armored.rstrip())}</pre></section>'
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
