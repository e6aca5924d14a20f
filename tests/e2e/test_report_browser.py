"""``onionlab report`` of the session's lab crawl, opened in headless Chromium.

The page must load with no console error (a positive control shows the console is really
read), every chart must be drawn by plotly (a plot container per chart), and a screenshot
is saved for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onionlab.crawler.commands.report import write_report
from tests.support import browser


def test_the_report_renders_every_chart_without_console_errors(
    crawl_summary: dict[str, Any], tmp_path: Path
) -> None:
    report = write_report(Path(crawl_summary["run_dir"]), tmp_path / "report.html")
    control = tmp_path / "control.html"
    control.write_text("<script>console.error('positive control')</script>")
    messages, _ = browser.console_and_dom(control.as_uri())
    assert any("positive control" in line for line in messages), messages
    messages, dom = browser.console_and_dom(report.as_uri())
    assert messages == []
    charts = report.read_text(encoding="utf-8").count('class="chart"')
    assert charts >= 4
    assert dom.count('class="chart js-plotly-plot"') == charts  # plotly drew each one
    assert dom.count('class="main-svg"') >= 2 * charts
    for title in ("Listings per market", "Where a gram is cheapest", "Vendors across markets"):
        assert title in dom
    shot = browser.screenshot(report.as_uri(), tmp_path / "report.png", size="1280,2400")
    print(f"screenshot of the report: {shot}")
    assert shot.stat().st_size > 50_000
