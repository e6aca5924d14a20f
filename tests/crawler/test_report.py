"""``onionlab report``'s views and page, on a known synthetic crawl (no browser here).

The numbers are computed again here with plain Python from the items; a hostile string in a
crawled title must reach the page as text, never as markup or script.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from statistics import median

from plotly.offline import get_plotlyjs

from onionlab.crawler.items import Listing
from onionlab.crawler.report.page import render
from onionlab.crawler.report.views import build
from onionlab.crawler.runs.rundir import RunDir
from tests.support.cli import onionlab
from tests.support.known_crawl import known_items, write_run

HOSTILE = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'


def test_the_views_are_the_numbers_the_items_imply(tmp_path: Path) -> None:
    items = known_items()
    run = RunDir(write_run(tmp_path, items))
    views = build(run)
    # a listing written twice (a page crawled again) is one listing: the last write wins
    listings = list({i.doc_id(): i for i in items if isinstance(i, Listing)}.values())
    by_site = Counter(i.site.removesuffix(".onion")[:16] + "…" for i in listings)
    assert views.listings_per_site == dict(by_site)
    gram = [i for i in listings if i.unit == "g" and i.substance and i.price_per_unit_usd]
    substance, site = gram[0].substance, gram[0].site
    expected = median(
        float(i.price_per_unit_usd) for i in gram if i.substance == substance and i.site == site
    )
    assert views.price_per_gram[substance][site.removesuffix(".onion")[:16] + "…"] == expected
    cheapest = {row["substance"]: row for row in views.cheapest}
    assert cheapest[substance]["usd_per_gram"] == min(views.price_per_gram[substance].values())
    cities = {i.extra["city"] for i in gram if i.substance == substance and "city" in i.extra}
    assert set(views.price_per_gram_by_city.get(substance, {})) == cities


def test_the_page_is_self_contained_and_hostile_text_stays_text(tmp_path: Path) -> None:
    items = known_items()
    first = next(i for i in items if isinstance(i, Listing) and i.unit == "g" and i.substance)
    hostile = dataclasses.replace(first, listing_id="evil", title=HOSTILE, substance=HOSTILE)
    # a hostile service name too: it labels a bar of the listings chart
    services = {HOSTILE: [first.site]}
    run = write_run(tmp_path, [*items, hostile], site_services=services)
    document = render(build(RunDir(run)))
    ours = document.replace(get_plotlyjs(), "")  # the page without the plotly.js library
    assert "<script>alert" not in ours and "<img src=x" not in ours
    assert "&lt;/script&gt;" in ours  # the table cell shows it as text
    assert "\\u003c\\u002fscript\\u003e" in ours  # the chart's JSON cannot end its script
    assert ours.count("<script") == 1 + ours.count('class="chart"')  # plotly.js, one a chart
    assert ours.count('class="chart"') == 4 and 'src="http' not in ours


def test_the_command_writes_beside_the_runs_not_into_the_run(tmp_path: Path) -> None:
    run = write_run(tmp_path / "runs", known_items(listings=12), "20261204-101010")
    before = sorted(p.name for p in run.iterdir())
    done = onionlab("report", str(run))
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path == tmp_path / "reports" / "20261204-101010.html" and path.stat().st_size > 1e6
    assert sorted(p.name for p in run.iterdir()) == before
    bad = onionlab("report", str(tmp_path))
    assert bad.returncode == 7 and "not an onionlab run directory" in bad.stderr
