"""The report as one self-contained HTML file: plotly.js, the data and the tables inline.

No network at view time: plotly.js (the plotly package's own copy) is written into the page,
each chart's figure as JSON beside it. Everything that came from a crawled site (titles,
handles, addresses, site names) is data, never markup: table cells are HTML-escaped, and
the charts' JSON has every ``<``, ``>`` and ``&`` written as a JSON escape, so a hostile
string cannot close the script element it sits in. Depends on plotly (imported here only:
the crawl never loads it) and :mod:`onionlab.crawler.report.views`.
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from onionlab.crawler.report.views import Views

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d2b3a;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#b9c6d3}main{padding:8px 28px 40px;max-width:1280px}
section{background:#fff;border:1px solid #e1e5ea;border-radius:6px;margin:18px 0;padding:14px 18px}
h2{font-size:17px;margin:0 0 10px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eef0f3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #e1e5ea;
border-radius:6px;padding:10px 16px;min-width:120px}.card b{display:block;font-size:20px}
.chart{min-height:380px}code{font-size:12px;word-break:break-all}
"""


def _escape_json(data: str) -> str:
    return data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class Page:
    """Builds the report's HTML, chart by chart and table by table."""

    def __init__(self, views: Views) -> None:
        self.views = views
        self.parts: list[str] = []
        self.charts = 0

    def chart(self, title: str, figure: go.Figure) -> None:
        self.charts += 1
        figure.update_layout(
            title=title, margin={"l": 60, "r": 20, "t": 50, "b": 80}, template="plotly_white"
        )
        spec = _escape_json(figure.to_json())
        div = f"chart-{self.charts}"
        self.parts.append(
            f'<section><div class="chart" id="{div}" data-chart="{html.escape(title)}"></div>'
            f"<script>(function(){{var f={spec};"
            f'Plotly.newPlot("{div}",f.data,f.layout,{{responsive:true,displaylogo:false}});}})();'
            "</script></section>"
        )

    def table(self, title: str, columns: list[str], rows: list[list[Any]], note: str = "") -> None:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td class="n">{cell:,.2f}</td>'
                if isinstance(cell, float)
                else f"<td>{html.escape(str(cell))}</td>"
                for cell in row
            )
            + "</tr>"
            for row in rows
        )
        extra = f"<p>{html.escape(note)}</p>" if note else ""
        self.parts.append(
            f"<section><h2>{html.escape(title)}</h2>{extra}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>"
        )

    def html(self) -> str:
        views = self.views
        summary = views.summary
        items = summary.get("items") or {}
        cards = [
            ("pages", summary.get("pages", 0)),
            ("listings", items.get("listing", 0)),
            ("vendors", items.get("vendor", 0)),
            ("vendor identities", items.get("vendor_identity", 0)),
            ("sites", len(views.site_states)),
            ("errors", summary.get("errors", 0)),
        ]
        card_html = "".join(
            f'<div class="card">{html.escape(name)}<b>{int(value):,}</b></div>'
            for name, value in cards
        )
        evidence = summary.get("capture") or {}
        subtitle = (
            f"run {views.run} · {summary.get('duration_s', 0)} s · "
            f"{evidence.get('records', 0)} WARC records (check with onionlab verify)"
        )
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>onionlab report: {html.escape(views.run)}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
            f"<header><h1>onionlab report</h1><p>{html.escape(subtitle)}</p></header><main>"
            f'<section><div class="cards">{card_html}</div></section>'
            + "".join(self.parts)
            + "</main></body></html>"
        )


def render(views: Views) -> str:
    """The whole report of ``views`` as one HTML document."""
    page = Page(views)
    sites = views.listings_per_site
    page.chart(
        "Listings per market",
        go.Figure(go.Bar(x=list(sites), y=list(sites.values()), marker_color="#3b6ea5")),
    )
    substances = sorted(views.price_per_gram, key=lambda s: -len(views.price_per_gram[s]))[:12]
    markets = sorted({m for s in substances for m in views.price_per_gram[s]})
    page.chart(
        "Median price per gram (USD) by substance and market",
        go.Figure(
            [
                go.Bar(
                    name=market,
                    x=substances,
                    y=[views.price_per_gram[s].get(market) for s in substances],
                )
                for market in markets
            ],
            layout={"barmode": "group"},
        ),
    )
    # the substances sold in the most cities: more bars than that cannot be read
    cities = dict(sorted(views.price_per_gram_by_city.items(), key=lambda kv: -len(kv[1]))[:6])
    if cities:
        names = sorted({c for by in cities.values() for c in by})
        page.chart(
            "Median price per gram (USD) by city (the six substances sold in most cities)",
            go.Figure(
                [
                    go.Bar(name=s, x=names, y=[cities[s].get(c) for c in names])
                    for s in sorted(cities)
                ],
                layout={"barmode": "group"},
            ),
        )
    page.table(
        "Where a gram is cheapest",
        ["substance", "cheapest at", "median USD per gram", "markets selling it"],
        [
            [r["substance"], r["site"], float(r["usd_per_gram"]), r["markets"]]
            for r in views.cheapest
        ],
    )
    page.table(
        "Vendors across markets (linked by PGP key, contacts and wallets)",
        ["handles", "sites", "PGP key ids", "wallets", "contacts"],
        [
            [r["handles"], r["sites"], r["pgp"], r["wallets"], r["contacts"]]
            for r in views.identities
        ],
    )
    page.table(
        "Addresses and contacts seen on several sites",
        ["type", "value", "sites", "how many"],
        [[r["type"], r["value"], r["sites"], r["count"]] for r in views.reused[:200]],
        note=f"{len(views.reused)} in all"
        + (", the first 200 shown" if len(views.reused) > 200 else ""),
    )
    pages = views.pages_per_site
    page.chart(
        "Crawl health: pages fetched per site",
        go.Figure(go.Bar(x=list(pages), y=list(pages.values()), marker_color="#4f8a5b")),
    )
    page.table(
        "Crawl health: sites and errors",
        ["site", "state"],
        [[site, state] for site, state in views.site_states.items()],
        note="errors by kind: "
        + (", ".join(f"{k} {v}" for k, v in views.errors_by_kind.items()) or "none"),
    )
    return page.html()
