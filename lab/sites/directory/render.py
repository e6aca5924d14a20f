"""HTML of the link directory: a light hidden-wiki design, no JavaScript, UTF-8.

``render_pages(world, service)`` returns ``{"/path": html_bytes}`` for every page of
the directory's truth (``pages`` in ``onionlab.lab.world.kinds.directory.truth``) and the
branded 404 page. Which identifiers each page shows is fixed by that module's ``shown``;
the CSS classes are the directory's public face that extractors are written against.
Depends only on the standard library, ``onionlab.lab.world`` and
``onionlab.lab.sites.market.render``.
"""

from __future__ import annotations

from html import escape

from onionlab.lab.sites.market.render import group_fingerprint
from onionlab.lab.world.kinds import directory as D
from onionlab.lab.world.model import Service, World

_CSS = """
body{background:#fdfcf7;color:#222;font:15px/1.45 Georgia,"Times New Roman",serif;margin:0}
a{color:#1a4d8f}#top{background:#efeadb;border-bottom:1px solid #c9c2a8;padding:12px 22px}
.site-name{margin:0;font-size:28px}.site-name a{color:#222;text-decoration:none}
.motto{margin:2px 0;color:#6b6552;font-style:italic}.updated{font-size:12px;color:#6b6552}
ul.menu{list-style:none;padding:0;margin:8px 0 0;display:flex;flex-wrap:wrap;gap:4px 16px}
#body{max-width:1100px;margin:18px auto;padding:0 18px}
table.links,table.addresses,table.site-info{border-collapse:collapse;width:100%;margin:6px 0 18px}
table.links td,table.links th,table.addresses td,table.addresses th{border:1px solid #d9d3bd;
  padding:4px 7px;text-align:left;vertical-align:top;font-size:14px}
table.links th,table.addresses th{background:#f3efe1}
table.site-info th{text-align:left;width:170px;color:#6b6552;padding:3px 8px 3px 0}
.onion-url,code{font:13px "Courier New",monospace;word-break:break-all}
.status{font:bold 12px sans-serif;padding:1px 5px;border-radius:3px}
.status-up{background:#d6f0d0;color:#1d6b12}.status-down{background:#f6d3d0;color:#9b1c12}
.badge{font:11px sans-serif;padding:1px 4px;border-radius:3px;margin-left:4px}
.verified{background:#1d6b12;color:#fff}.submitted{background:#ddd;color:#444}
.h{font-size:12px}.h-up{color:#1d6b12}.h-down{color:#9b1c12}
.alert{border:2px solid #9b1c12;background:#fff4f2;padding:8px 14px;margin:12px 0}
.alert-exit-scam{border-color:#8a6d00;background:#fffbea}
#foot{border-top:1px solid #c9c2a8;color:#6b6552;font-size:12px;padding:12px 22px}
"""


def _e(text: str) -> str:
    return escape(text, quote=True)


def _url(onion: str) -> str:
    url = f"http://{onion}/"
    return f'<a class="onion-url" href="{_e(url)}">{_e(url)}</a>'


def _status(status: str) -> str:
    return f'<span class="status status-{status}">{status.upper()}</span>'


def _badges(entry: D.Entry) -> str:
    out = ""
    if entry.verified:
        out += '<span class="badge verified">✔ verified</span>'
    if entry.submitted:
        out += '<span class="badge submitted">user-submitted</span>'
    return out


class _Renderer:
    def __init__(self, world: World, service: Service) -> None:
        self.svc = service
        self.c = D.content_of(service)
        cats = "".join(
            f'<li><a href="{D.category_path(c.slug)}">{_e(c.name)}</a></li>'
            for c in self.c.categories
        )
        self.menu = (
            f'<ul class="menu"><li><a href="/">Index</a></li>{cats}'
            f'<li><a href="{D.STATUS_PATH}">Status</a></li>'
            f'<li><a href="{D.WARNINGS_PATH}">⚠ Warnings</a></li>'
            f'<li><a href="{D.ABOUT_PATH}">About</a></li></ul>'
        )

    def page(self, title: str, body: str) -> bytes:
        svc = self.svc
        html = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)} — {_e(svc.title)}</title><style>{_CSS}</style></head><body>"
            f'<div id="top"><h1 class="site-name"><a href="/">{_e(svc.title)}</a></h1>'
            f'<p class="motto">{_e(svc.tagline)}</p><p class="updated">Last full check: '
            f'<span class="updated-at">{self.c.updated}</span></p>{self.menu}</div>'
            f'<div id="body">{body}</div><div id="foot">Links are checked every few hours. '
            "We never host content. Verified = the site's own signed mirror list names it."
            "</div></body></html>\n"
        )
        return html.encode("utf-8")

    def rows(self, entries: list[D.Entry], *, describe: bool) -> str:
        head = "<th>Site</th><th>Address</th><th>URL</th><th>Status</th><th>Last checked</th>"
        if describe:
            head += "<th>Description</th>"
        rows = []
        for entry in entries:
            for k, a in enumerate(entry.addresses):
                name = (
                    f'<a class="site-link" href="{D.site_path(entry.slug)}">{_e(entry.name)}</a>'
                    f"{_badges(entry)}"
                    if k == 0
                    else "&#8627;"
                )
                desc = f'<td class="description">{_e(entry.description)}</td>' if describe else ""
                rows.append(
                    f'<tr class="link" data-slug="{_e(entry.slug)}" data-status="{a.status}" '
                    f'data-verified="{int(entry.verified)}" data-label="{_e(a.label)}">'
                    f'<td class="name">{name}</td><td class="label">{_e(a.label)}</td>'
                    f'<td class="url">{_url(a.onion)}</td><td>{_status(a.status)}</td>'
                    f'<td class="checked">{a.checked}</td>{desc}</tr>'
                )
        return (
            f'<table class="links"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    def home(self) -> bytes:
        parts = [
            '<p class="intro">The hand-checked index of onion services. Bookmark us: '
            f'<code class="own-onion">http://{_e(self.svc.onion)}/</code>. Read the '
            f'<a href="{D.WARNINGS_PATH}">warnings</a> before depositing anywhere.</p>'
        ]
        for cat in self.c.categories:
            parts.append(
                f'<section class="category" data-slug="{cat.slug}"><h2>'
                f'<a href="{D.category_path(cat.slug)}">{_e(cat.name)}</a></h2>'
                f"{self.rows(self.c.in_category(cat.slug), describe=False)}</section>"
            )
        return self.page("Index", "".join(parts))

    def category(self, slug: str) -> bytes:
        cat = next(c for c in self.c.categories if c.slug == slug)
        entries = self.c.in_category(slug)
        body = (
            f'<h2 class="category-title">{_e(cat.name)}</h2><p class="count">{len(entries)} '
            f"sites</p>{self.rows(entries, describe=True)}"
        )
        return self.page(cat.name, body)

    def site(self, entry: D.Entry) -> bytes:
        cat = next(c for c in self.c.categories if c.slug == entry.category)
        info = [
            ("Category", "category", f'<a href="{D.category_path(cat.slug)}">{_e(cat.name)}</a>'),
            ("Description", "description", _e(entry.description)),
            ("Status", "site-status", _status(entry.status)),
            ("Verified", "verified-flag", "yes" if entry.verified else "no"),
        ]
        if entry.fingerprint:
            info.append(
                (
                    "Signing key",
                    "fingerprint",
                    f'<code class="fpr">{group_fingerprint(entry.fingerprint)}</code>',
                )
            )
        if entry.note:
            info.append(("Note", "note", _e(entry.note)))
        if entry.submitted:
            info.append(("Source", "source", "user submission, not reviewed yet"))
        if entry.reports:
            info.append(("Reports", "reports", str(entry.reports)))
        table = "".join(f'<tr><th>{k}</th><td class="{c}">{v}</td></tr>' for k, c, v in info)
        addresses = "".join(
            f'<tr class="address" data-status="{a.status}"><td class="label">{_e(a.label)}</td>'
            f'<td class="url">{_url(a.onion)}</td><td>{_status(a.status)}</td>'
            f'<td class="checked">{a.checked}</td><td class="history">'
            + "".join(f'<span class="h h-{h}" title="{h}">●</span>' for h in a.history)
            + "</td></tr>"
            for a in entry.addresses
        )
        body = (
            f'<div class="site" data-slug="{_e(entry.slug)}" data-category="{entry.category}">'
            f'<h2 class="site-title">{_e(entry.name)}{_badges(entry)}</h2>'
            f'<table class="site-info"><tbody>{table}</tbody></table><h3>Addresses</h3>'
            '<table class="addresses"><thead><tr><th>Address</th><th>URL</th><th>Status</th>'
            f"<th>Last checked</th><th>Last {D.HISTORY} checks</th></tr></thead>"
            f"<tbody>{addresses}</tbody></table></div>"
        )
        return self.page(entry.name, body)

    def status(self) -> bytes:
        rows = []
        for entry in sorted(self.c.entries, key=lambda e: e.name.lower()):
            for a in entry.addresses:
                ups = sum(h == "up" for h in a.history)
                rows.append(
                    f'<tr class="address" data-slug="{_e(entry.slug)}" data-status="{a.status}">'
                    f'<td class="name"><a href="{D.site_path(entry.slug)}">{_e(entry.name)}</a>'
                    f'</td><td class="label">{_e(a.label)}</td><td class="url">{_url(a.onion)}'
                    f'</td><td>{_status(a.status)}</td><td class="checked">{a.checked}</td>'
                    f'<td class="uptime">{ups}/{len(a.history)}</td></tr>'
                )
        body = (
            '<h2>Status of every link</h2><table class="addresses"><thead><tr><th>Site</th>'
            "<th>Address</th><th>URL</th><th>Status</th><th>Last checked</th><th>Uptime</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
        return self.page("Status", body)

    def warnings(self) -> bytes:
        by_onion = {a.onion: e.slug for e in self.c.entries for a in e.addresses}
        parts = [
            "<h2>Warnings</h2><p>Phishing sites copy real ones page for page. Compare the "
            "whole address with the site's signed mirror list, never just the first letters."
            "</p>"
        ]
        for alert in self.c.alerts:
            title = "Phishing" if alert.kind == "phishing" else "Exit scam"
            real = (
                f'<p class="real">Real address: {_url(alert.real_onion)}</p>'
                if alert.real_onion
                else ""
            )
            listing = by_onion.get(alert.onion)
            link = (
                f'<p><a href="{D.site_path(listing)}">Our listing entry</a></p>' if listing else ""
            )
            parts.append(
                f'<div class="alert alert-{alert.kind}" data-kind="{alert.kind}">'
                f'<h3>{title}: <span class="subject">{_e(alert.subject)}</span></h3>'
                f'<p class="bad">Do not use: <code class="onion-bad">http://{_e(alert.onion)}/'
                f"</code></p>{real}"
                f'<p class="reported">Reported <span class="date">{alert.reported}</span></p>'
                f'<p class="text">{_e(alert.text)}</p>{link}</div>'
            )
        return self.page("Warnings", "".join(parts))

    def about(self) -> bytes:
        body = (
            "<h2>About</h2><p>We check every link several times a day and mark a site "
            "<em>verified</em> only when its own PGP-signed mirror list names the address. "
            "Users may submit links; submissions are listed unreviewed until a moderator "
            "checks them.</p><p>Our only address: "
            f'<code class="own-onion">http://{_e(self.svc.onion)}/</code></p>'
        )
        return self.page("About", body)

    def not_found(self) -> bytes:
        body = (
            "<h2>404 — link not in the index</h2><p>This page does not exist. "
            'Go back to the <a href="/">index</a>.</p>'
        )
        return self.page("Not found", body)


def render_pages(world: World, service: Service) -> tuple[dict[str, bytes], bytes]:
    """Render every page of the directory: ``({path: html}, not_found_html)``."""
    r = _Renderer(world, service)
    out: dict[str, bytes] = {}
    for page in D.pages(service):
        if page.kind == "home":
            out[page.path] = r.home()
        elif page.kind == "category":
            out[page.path] = r.category(page.key)
        elif page.kind == "site":
            out[page.path] = r.site(r.c.entry(page.key))
        elif page.kind == "status":
            out[page.path] = r.status()
        elif page.kind == "warnings":
            out[page.path] = r.warnings()
        elif page.kind == "about":
            out[page.path] = r.about()
        else:  # pragma: no cover - a page kind without a renderer is a bug
            raise ValueError(f"no renderer for page kind {page.kind!r}")
    return out, r.not_found()
