"""HTML of the paste site: a dark, monospace pastebin clone.

``render_pages(world, service)`` returns ``({"/path": (content type, body)}, not_found)``:
index pages (``tr.paste-row``), paste pages (``.paste-*`` fields, body in
``pre.paste-body``), ``/raw/<id>`` as ``text/plain`` and ``/about``. The encrypted paste's
page carries only the ciphertext (``#cipherdata``, JSON) and the decrypting script; the
index links it without its key. Depends on ``onionlab.lab.world``.
"""

from __future__ import annotations

from html import escape

from onionlab.lab.sites.pagination import Pager
from onionlab.lab.world.kinds import paste as k
from onionlab.lab.world.model import Service, World

_PAGER = Pager(
    prev='<a class="prev" rel="prev" href="{href}">newer</a>',
    current='<span class="current">{n}</span>',
    link='<a href="{href}">{n}</a>',
    next='<a class="next" rel="next" href="{href}">older</a>',
)

_CSS = """
body{background:#1b1d23;color:#c8ccd4;font:14px/1.5 'DejaVu Sans Mono',Menlo,monospace;margin:0}
a{color:#61afef}
.top{background:#111318;padding:10px 20px;border-bottom:1px solid #2c313a}
.top .logo{color:#98c379;font-weight:bold;font-size:18px;text-decoration:none}
.top .tag{color:#5c6370;margin-left:12px}.top nav{float:right}.top nav a{margin-left:14px}
.main{padding:18px 20px;max-width:1000px}
table.pastes{width:100%;border-collapse:collapse}
table.pastes th{text-align:left;color:#5c6370;border-bottom:1px solid #2c313a;padding:4px}
table.pastes td{padding:4px;border-bottom:1px solid #23272e}
ul.paste-meta{list-style:none;padding:0;color:#5c6370}
ul.paste-meta li{display:inline;margin-right:18px}
pre.paste-body{background:#111318;border:1px solid #2c313a;padding:12px;white-space:pre-wrap;
  word-break:break-all}
.pager a,.pager span{margin-right:8px}.pager .current{color:#e5c07b}
.notice{border-left:3px solid #e5c07b;padding:6px 12px;background:#23272e}
#cipherdata{display:none}
"""

# Decrypts the paste in the browser with the key after "#" (which never reaches us).
_SCRIPT = """
(function () {
  var out = document.getElementById("plaintext");
  var status = document.getElementById("status");
  var key = window.location.hash.slice(1);
  if (!key) { status.textContent = "No key in the link: this paste cannot be decrypted."; return; }
  function bytes(b64) {
    b64 = b64.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    return Uint8Array.from(atob(b64), function (c) { return c.charCodeAt(0); });
  }
  var env = JSON.parse(document.getElementById("cipherdata").textContent);
  crypto.subtle.importKey("raw", bytes(key), "AES-GCM", false, ["decrypt"])
    .then(function (k) {
      return crypto.subtle.decrypt({name: "AES-GCM", iv: bytes(env.iv),
        additionalData: new TextEncoder().encode(env.adata), tagLength: 128}, k, bytes(env.ct));
    })
    .then(function (plain) {
      out.textContent = new TextDecoder().decode(plain);
      out.hidden = false;
      status.textContent = "Decrypted in your browser.";
    })
    .catch(function () { status.textContent = "Wrong key: could not decrypt."; });
})();
"""


def _e(text: str) -> str:
    return escape(text, quote=True)


class _Bin:
    def __init__(self, world: World, service: Service) -> None:
        self.svc = service
        self.bin: k.PasteBin = service.content

    def page(self, title: str, body: str, script: str = "") -> tuple[str, bytes]:
        html = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)} - {_e(self.svc.title)}</title><style>{_CSS}</style></head>"
            f'<body><div class="top"><a class="logo" href="{k.HOME}">{_e(self.svc.title)}</a>'
            f'<span class="tag">{_e(self.svc.tagline)}</span><nav>'
            f'<a href="{k.HOME}">latest</a><a href="{k.ABOUT}">about</a></nav></div>'
            f'<div class="main">{body}</div>'
            + (f"<script>{script}</script>" if script else "")
            + "</body></html>\n"
        )
        return "text/html", html.encode("utf-8")

    def index(self, number: int, total: int) -> tuple[str, bytes]:
        per = self.svc.per_page
        chunk = self.bin.pastes[(number - 1) * per : number * per]
        rows = "".join(
            f'<tr class="paste-row" data-id="{p.paste_id}">'
            f'<td><a class="paste-link" href="{k.paste_path(p.paste_id)}">{_e(p.title)}</a></td>'
            f'<td class="paste-author">{_e(p.author)}</td>'
            f'<td class="paste-syntax">{_e(p.syntax)}</td>'
            f'<td class="paste-created">{p.created}</td>'
            f'<td class="paste-size">{len(p.body.encode()) if p.body else "?"}</td></tr>'
            for p in chunk
        )
        pager = _PAGER.links(total, number, k.index_path)
        body = (
            f"<h2>Latest pastes</h2>"
            '<table class="pastes"><thead><tr><th>title</th><th>author</th><th>syntax</th>'
            f"<th>created</th><th>bytes</th></tr></thead><tbody>{rows}</tbody></table>"
            f'<p class="pager">{"".join(pager)}</p>'
        )
        return self.page("Latest pastes" if number == 1 else f"Archive {number}", body)

    def meta(self, p: k.Paste) -> str:
        return (
            '<ul class="paste-meta">'
            f'<li>by <span class="paste-author">{_e(p.author)}</span></li>'
            f'<li>created <span class="paste-created">{p.created}</span></li>'
            f'<li>expires <span class="paste-expires">{p.expires}</span></li>'
            f'<li>syntax <span class="paste-syntax">{_e(p.syntax)}</span></li>'
            f'<li><span class="paste-views">{p.views}</span> views</li></ul>'
        )

    def paste(self, p: k.Paste) -> tuple[str, bytes]:
        body = (
            f'<div class="paste" id="paste-{p.paste_id}">'
            f'<h1 class="paste-title">{_e(p.title)}</h1>{self.meta(p)}'
            f'<p class="paste-actions"><a class="raw-link" href="{k.raw_path(p.paste_id)}">raw</a>'
            f'</p><pre class="paste-body">{_e(p.body)}</pre></div>'
        )
        return self.page(p.title, body)

    def encrypted(self, p: k.Paste) -> tuple[str, bytes]:
        body = (
            f'<div class="paste encrypted" id="paste-{p.paste_id}">'
            f'<h1 class="paste-title">{_e(p.title)}</h1>{self.meta(p)}'
            '<p class="notice">This paste is end-to-end encrypted (AES-256-GCM). The server '
            "only stores ciphertext; the key is the part of the link after <b>#</b>, which "
            "your browser never sends. Open the full link with JavaScript enabled.</p>"
            '<noscript><p class="notice">JavaScript is required to decrypt this paste.</p>'
            "</noscript>"
            '<p id="status" class="status">Waiting for the key…</p>'
            f'<pre id="cipherdata" class="cipherdata">{_e(p.cipher)}</pre>'
            '<pre id="plaintext" class="paste-body" hidden></pre></div>'
        )
        return self.page(p.title, body, _SCRIPT)

    def about(self) -> tuple[str, bytes]:
        onion = self.svc.onion.removesuffix(".onion")
        body = (
            f"<h2>About {_e(self.svc.title)}</h2>"
            "<p>Anonymous pastes, no accounts, no logs. Pastes expire as their author chose. "
            "Encrypted pastes are decrypted in your browser only: we never see the key.</p>"
            f'<p>Our only address: <code class="onion">{onion}.onion</code></p>'
            "<p>Abuse? We do not read pastes and we do not answer e-mail.</p>"
        )
        return self.page("About", body)


def render_pages(world: World, service: Service) -> tuple[dict[str, tuple[str, bytes]], bytes]:
    """Every page by path as ``(content type, body)``, and the 404 page."""
    r = _Bin(world, service)
    total = k.index_pages(service)
    pages: dict[str, tuple[str, bytes]] = {
        k.index_path(n): r.index(n, total) for n in range(1, total + 1)
    }
    for p in r.bin.pastes:
        if p.encrypted:
            pages[k.paste_path(p.paste_id)] = r.encrypted(p)
        else:
            pages[k.paste_path(p.paste_id)] = r.paste(p)
            pages[k.raw_path(p.paste_id)] = ("text/plain", p.body.encode("utf-8"))
    pages[k.ABOUT] = r.about()
    not_found = r.page(
        "Not found",
        "<h2>Paste not found</h2><p>Page not found: it expired, was deleted or never "
        f'existed. <a href="{k.HOME}">Latest pastes</a></p>',
    )[1]
    return pages, not_found
