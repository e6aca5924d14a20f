"""End to end, the malicious site: the full lab with the ``hostile`` profile, through real Tor.

One crawl of the whole lab (``examples/lab-sites.toml``; the hostile site ``abyss`` gets the
file's ``[defaults]``) under ``strace -f -e connect``, its process tree's memory polled from
``/proc``. A correct crawler finishes by itself within seven minutes, within 400 MB, with
every normal site's pages found (recall 1.0), all of them together at no less than 80 % of
the pages/s (each site long enough to time alone at 70 %) of a crawl of the normal sites
alone (``baseline_crawl``: the same lab, just before, so that both crawls meet the same Tor
network and the same load on the machine, whose pace drifts by a fifth over minutes); its
summary reports every attack of ``truth["attacks"]`` by one of the outcomes the truth
expects; the forged ``mirrors.txt`` moves nothing to the forum; and nothing connects
anywhere but Tor's SOCKS port (strace) or to the lab's loopback canary.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from onionlab.crawler.runs.rundir import RunDir
from onionlab.crawler.scoring import canonical_url, evaluate
from onionlab.lab.controller import Lab
from tests.e2e.test_lab_crawl import strace_connects
from tests.support.cli import SEED, onionlab

pytestmark = [pytest.mark.tor, pytest.mark.slow]

# A correct crawler is done with the hostile lab within seven minutes: the normal sites take
# about 25 s; the hostile one costs its capped Retry-After (60 s once, then 5 s each) and its
# drips: each times out after 60 s and is retried (RETRY_TIMES 4) until the site goes dark
# and is declared gone, at worst 5 x 60 s. Measured: 131 to 267 s.
CRAWL_SECONDS = 420
# Past this the crawl is stopped (and the test says it did not end by itself).
HARD_LIMIT = float(os.environ.get("ONIONLAB_HOSTILE_HARD_LIMIT", 600))
PEAK_RSS = 400 * 1024 * 1024  # bytes, the crawl process and all its children
RATE_FLOOR = 0.8  # the normal sites' pages/s together, with the hostile site / without it
# Seconds: a site crawled faster is timed only with the others (below). Its first seconds
# are the gate's fixed costs (a 2 s queue wait, a CAPTCHA, a login), so its own rate then
# swings by a quarter from run to run, hostile site or not.
MIN_SPAN = 10.0
# A site timed on its own is held to less than all of them together: a span of 10 to 15 s
# swings by a quarter too (market-clone, 119 pages in 12 s: 10.1 pages/s alone, 7.3 beside
# the hostile site, while all normal sites together kept 0.89 of their pace and no site
# paused over 2 s). So a site is held to a share of the pace all of them kept together:
# beside the hostile site every site's span stretches (its slots are spread over a longer
# crawl), so each site's own ratio falls below the whole's. A CI run: together 0.82, every
# site between 0.63 and 0.81 of its pace, none paused over 2 s; against the whole's ratio
# they are 0.77 to 0.99. A site held up by the hostile one (its requests behind the hostile
# site's, or its slots taken) falls far below: that is what this floor is for.
SITE_RATE_FLOOR = 0.7
HOSTILE = "abyss"
LAB_SITES = Path(__file__).resolve().parents[2] / "examples" / "lab-sites.toml"  # as conftest


@pytest.fixture(scope="module")
def hostile_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("onionlab-hostile")
    lab_dir = data / "lab"
    state_path = Lab().up(
        seed=SEED, data_dir=lab_dir, profile="hostile", progress=lambda m: print("lab:", m)
    )
    try:
        yield {
            "data": data,
            "lab_dir": lab_dir,
            "state": json.loads(state_path.read_text()),
            "truth": json.loads((lab_dir / "truth.json").read_text()),
        }
    finally:
        Lab().down(data_dir=lab_dir)


def _command(pid: int) -> str:
    """A process's command line, short (for the memory breakdown at the peak)."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    return f"{pid} " + " ".join(w.decode(errors="replace") for w in words[1:4])


def _tree(root: int) -> tuple[list[int], dict[int, int]]:
    """``root`` and every process descending from it (from /proc), and each one's parent."""
    children: dict[int, list[int]] = defaultdict(list)
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
        parents[int(entry.name)] = ppid
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found, parents


def _own_memory(pids: list[int], parents: dict[int, int]) -> list[int]:
    """``pids`` without a fork that has not yet run its program (a worker being started:
    between fork and exec it is a copy of the crawl, its pages the crawl's own, its RSS
    the crawl's again), so that the sum counts each address space once. A worker forked
    before the crawl runs never execs: it names itself (``/proc/<pid>/comm``) instead, and
    counts whole (its RSS holds the pages it shares with the crawl: the sum overstates)."""

    def program(pid: int) -> tuple[bytes, bytes] | None:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes(), Path(f"/proc/{pid}/comm").read_bytes()
        except OSError:
            return None

    own = []
    for pid in pids:
        ppid = parents.get(pid, 0)
        if ppid in pids and program(pid) == program(ppid):
            continue
        own.append(pid)
    return own


def _pss(pid: int) -> int:
    """Proportional set size: resident memory with shared pages (libraries) split among
    the processes sharing them; summed over a tree, what the tree really holds."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@pytest.fixture(scope="module")
def baseline_crawl(hostile_lab: dict[str, Any]) -> dict[str, Any]:
    """The summary of a crawl of the hostile lab's normal sites alone (their addresses as
    the start URLs, the hostile site's left out), run just before ``hostile_crawl``."""
    urls = [s["url"] for s in hostile_lab["state"]["services"] if s["name"] != HOSTILE]
    command = ["crawl", "--json", "--data-dir", str(hostile_lab["data"]), "--sites", str(LAB_SITES)]
    result = onionlab(*command, *urls)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def hostile_crawl(
    hostile_lab: dict[str, Any],
    baseline_crawl: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """The crawl of the hostile lab: summary, peak RSS, wall time, strace's connect log
    (after ``baseline_crawl``, which it must not overlap)."""
    out = tmp_path_factory.mktemp("hostile-crawl")
    command = [sys.executable, "-m", "onionlab", "crawl", "--json"]
    command += ["--data-dir", str(hostile_lab["data"]), "--sites", str(LAB_SITES)]
    strace = shutil.which("strace")
    trace = out / "connect.trace" if strace else None
    if strace:
        # seccomp-bpf: only connect() stops the tracee, so the crawl runs at full speed.
        command = [strace, "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect",
                   "-o", str(trace), *command]  # fmt: skip
    stdout, stderr = (out / "stdout").open("wb"), (out / "stderr").open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        stdout=stdout,
        stderr=stderr,
        env={**os.environ, "ONIONLAB_DATA": ""},
        start_new_session=True,  # its own process group: stopped as one if it hangs
    )
    peak, ended, at_peak, peak_pss = 0, True, {}, 0
    while process.poll() is None:
        pids, parents = _tree(process.pid)
        pids = _own_memory(pids[1:] if strace else pids, parents)  # not strace itself
        sizes = {pid: _rss(pid) for pid in pids}
        peak_pss = max(peak_pss, sum(_pss(pid) for pid in pids))
        if sum(sizes.values()) > peak:
            peak, at_peak = sum(sizes.values()), {_command(pid): rss for pid, rss in sizes.items()}
        if time.monotonic() - started > HARD_LIMIT:
            ended = False
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            break
        time.sleep(0.2)
    seconds = time.monotonic() - started
    stdout.close()
    stderr.close()
    text = (out / "stdout").read_text()
    try:
        summary = json.loads(text)
    except json.JSONDecodeError:
        summary = {}  # stopped, or it crashed: the run directory still says what it did
    runs = sorted((hostile_lab["data"] / "runs").glob("*/"))
    run_dir = summary.get("run_dir") or (str(runs[-1]) if runs else "")
    print(f"hostile crawl: {seconds:.1f} s, peak RSS {peak / 2**20:.0f} MiB, PSS "
          f"{peak_pss / 2**20:.0f} MiB "
          f"({ {c: r // 2**20 for c, r in at_peak.items()} }), exit "
          f"{process.returncode}, ended by itself: {ended}")  # fmt: skip
    shown = ("pages", "duration_s", "errors_by_kind", "dropped", "sites", "finish_reason")
    print(json.dumps({k: summary.get(k) for k in shown}, indent=1))
    if run_dir:
        _print_outcomes(hostile_lab["truth"], summary, run_dir)
    return {
        "summary": summary,
        "run_dir": run_dir,
        "returncode": process.returncode,
        "ended": ended,
        "seconds": seconds,
        "peak_rss": peak,
        "peak_by_process": at_peak,
        "peak_pss": peak_pss,
        "trace": trace,
        "stderr": (out / "stderr").read_text(errors="replace")[-4000:],
    }


def _pages(run_dir: str) -> list[dict[str, Any]]:
    docs = []
    lines = (Path(run_dir) / "items.ndjson").read_text().splitlines()
    for line in lines[1::2]:
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a crawl that was killed
        if doc.get("kind") == "page":
            docs.append(doc)
    return docs


def _errors(run_dir: str) -> list[dict[str, Any]]:
    path = Path(run_dir) / "errors.ndjson"
    if not path.exists():
        return []
    errors = []
    for line in path.read_text().splitlines():
        try:
            errors.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return errors


def _normal_sites(truth: dict[str, Any]) -> dict[str, str]:
    """Onion host → name of every service but the hostile one."""
    return {s["onion"].lower(): s["name"] for s in truth["services"] if s["kind"] != "hostile"}


def _rates(run_dir: str, hosts: dict[str, str]) -> dict[str, tuple[float, float, int]]:
    """Site → (pages/s, span in s, pages) from each fetched page's ``fetched_at``."""
    times: dict[str, list[float]] = defaultdict(list)
    for doc in _pages(run_dir):
        site = hosts.get((urlsplit(doc["url"]).hostname or "").lower())
        if site is not None and doc.get("status") == 200:
            times[site].append(datetime.fromisoformat(doc["fetched_at"]).timestamp())
    rates = {}
    for site, stamps in times.items():
        span = max(stamps) - min(stamps) or 1e-3  # fetched_at is in milliseconds
        rates[site] = (len(stamps) / span, span, len(stamps))
    return rates


def _stalls(run_dir: str, hosts: dict[str, str]) -> dict[str, list[tuple[float, float]]]:
    """Site → its pauses over 2 s between two pages (seconds into the crawl, length): what
    to look at when a site fell behind (a straggler page, a stall, a slow stretch)."""
    times: dict[str, list[float]] = defaultdict(list)
    for doc in _pages(run_dir):
        site = hosts.get((urlsplit(doc["url"]).hostname or "").lower())
        times[site or "other"].append(datetime.fromisoformat(doc["fetched_at"]).timestamp())
    start = min(min(stamps) for stamps in times.values())
    stalls = {}
    for site, stamps in times.items():
        stamps.sort()
        pauses = [(round(a - start, 1), round(b - a, 1)) for a, b in itertools.pairwise(stamps)]
        stalls[site] = [pause for pause in pauses if pause[1] > 2][:5]
    return stalls


def _together(run_dir: str, hosts: dict[str, str]) -> float:
    """Pages/s of the normal sites together: their pages over the time they were crawled."""
    stamps = [
        datetime.fromisoformat(doc["fetched_at"]).timestamp()
        for doc in _pages(run_dir)
        if (urlsplit(doc["url"]).hostname or "").lower() in hosts and doc.get("status") == 200
    ]
    return len(stamps) / (max(stamps) - min(stamps))


def _print_outcomes(truth: dict[str, Any], summary: dict[str, Any], run_dir: str) -> None:
    """Per attack: what the truth expects, what the crawl recorded (for the CI log)."""
    pages = {canonical_url(d["url"]): d.get("status") for d in _pages(run_dir)}
    errors = _errors(run_dir)
    for attack in truth["attacks"]:
        url = canonical_url(attack["url"])
        under = {canonical_url(u) for u in pages if canonical_url(u).startswith(url)}
        kinds = sorted({e["kind"] for e in errors if canonical_url(e["url"]).startswith(url)})
        statuses = sorted({pages[u] for u in under if u in pages}, key=str)
        print(f"{attack['attack']:22} expect {attack['expect']} page statuses {statuses} "
              f"({len(under)} URLs) errors {kinds}")  # fmt: skip
    print("dropped:", summary.get("dropped", "(no summary)"))


def _summary(crawl: dict[str, Any], key: str) -> Any:
    summary = crawl["summary"]
    assert key in summary, f"no crawl summary (exit {crawl['returncode']}): {crawl['stderr']}"
    return summary[key]


# --- the tests ----------------------------------------------------------------------------------


def test_hostile_lab_has_the_site_and_a_canary(hostile_lab: dict[str, Any]) -> None:
    names = {s["name"] for s in hostile_lab["state"]["services"]}
    assert HOSTILE in names
    canary = hostile_lab["state"]["canary"]
    assert canary["host"] == "127.0.0.1" and canary["port"] > 0
    assert hostile_lab["truth"]["attacks"]


def test_crawl_ends_by_itself_within_seven_minutes(hostile_crawl: dict[str, Any]) -> None:
    assert hostile_crawl["ended"], f"still running after {HARD_LIMIT} s: stopped"
    assert hostile_crawl["returncode"] == 0, hostile_crawl["stderr"]
    assert _summary(hostile_crawl, "finish_reason") == "finished"
    assert hostile_crawl["seconds"] < CRAWL_SECONDS, hostile_crawl["seconds"]


def test_peak_memory_of_the_crawl_tree(hostile_crawl: dict[str, Any]) -> None:
    at_peak = hostile_crawl["peak_by_process"].items()
    by_process = {command: f"{rss / 2**20:.0f} MiB" for command, rss in at_peak}
    # The RSS sum over the crawl and its workers is the strict measure: it counts each
    # shared library once per process (the PSS, shown too, splits them).
    print(f"peak RSS (sum) {hostile_crawl['peak_rss'] / 2**20:.0f} MiB, PSS "
          f"{hostile_crawl['peak_pss'] / 2**20:.0f} MiB: {by_process}")  # fmt: skip
    assert 0 < hostile_crawl["peak_rss"] <= PEAK_RSS, f"RSS at the peak: {by_process}"
    assert 0 < hostile_crawl["peak_pss"] <= hostile_crawl["peak_rss"]


def test_every_normal_site_is_crawled_completely(
    hostile_crawl: dict[str, Any], hostile_lab: dict[str, Any]
) -> None:
    truth = hostile_lab["truth"]
    evaluation = hostile_crawl["summary"].get("eval") or evaluate(
        RunDir(Path(hostile_crawl["run_dir"])), truth
    )  # a crawl stopped before its summary is still scored from its run directory
    by_site = evaluation["pages"]["by_site"]
    normal = set(_normal_sites(hostile_lab["truth"]).values())
    recall = {site: by_site.get(site, {}).get("recall", 0.0) for site in sorted(normal)}
    assert recall == dict.fromkeys(sorted(normal), 1.0)
    # ...and what was extracted from them: the hostile site's pages never cost another
    # site's page its items (a worker left crippled by a bomb would).
    listings, vendors = evaluation["listings"], evaluation["vendors"]
    assert (listings["recall"], listings["precision"]) == (1.0, 1.0), listings
    assert (vendors["recall"], vendors["precision"]) == (1.0, 1.0), vendors


def _outcome_seen(
    outcome: str, attack: dict[str, Any], summary: dict[str, Any], pages: set[str], errors: list
) -> bool:
    if outcome == "page":
        return canonical_url(attack["url"]) in pages
    kind, _, name = outcome.partition(":")
    if kind == "dropped":
        return summary.get("dropped", {}).get(name, 0) > 0
    if kind == "error":  # on the attack's URL or a URL under it (a redirect chain's hop)
        url = canonical_url(attack["url"])
        return any(e["kind"] == name and canonical_url(e["url"]).startswith(url) for e in errors)
    raise AssertionError(f"unknown outcome {outcome!r} in the truth")


def test_summary_reports_every_attack_by_its_expected_outcome(
    hostile_crawl: dict[str, Any], hostile_lab: dict[str, Any]
) -> None:
    summary = hostile_crawl["summary"]
    run_dir = hostile_crawl["run_dir"]
    pages = {canonical_url(d["url"]) for d in _pages(run_dir)}
    errors = _errors(run_dir)
    missed = {}
    for attack in hostile_lab["truth"]["attacks"]:
        # The site goes dark by design: an attack page still waiting then (or its retry)
        # fails as site_gone, which a correct crawler records instead of fetching it.
        expect = [*attack["expect"], "error:site_gone"]
        if not any(_outcome_seen(o, attack, summary, pages, errors) for o in expect):
            url = canonical_url(attack["url"])
            seen = sorted({e["kind"] for e in errors if canonical_url(e["url"]).startswith(url)})
            missed[attack["attack"]] = {"expected one of": attack["expect"], "errors": seen,
                                        "page": url in pages}  # fmt: skip
    assert not missed, json.dumps({"missed": missed, "dropped": summary.get("dropped")}, indent=1)


def test_forged_mirror_list_moves_nothing_to_the_forum(
    hostile_crawl: dict[str, Any], hostile_lab: dict[str, Any]
) -> None:
    hostile = next(s for s in hostile_lab["truth"]["services"] if s["name"] == HOSTILE)
    moved = _summary(hostile_crawl, "sites")["moved"]
    assert hostile["onion"].lower() not in moved, moved
    assert _summary(hostile_crawl, "dropped").get("mirror_unverified", 0) >= 1


def test_canary_recorded_no_connection(
    hostile_crawl: dict[str, Any], hostile_lab: dict[str, Any]
) -> None:
    result = onionlab("lab", "canary", "--json", "--data-dir", str(hostile_lab["data"]))
    report = json.loads(result.stdout)
    assert report["connections"] == 0, Path(report["log"]).read_text()[:2000]
    assert result.returncode == 0


def test_strace_sees_connects_only_to_the_socks_port(
    hostile_crawl: dict[str, Any], hostile_lab: dict[str, Any]
) -> None:
    if hostile_crawl["trace"] is None:
        assert not os.environ.get("CI"), "CI must have strace (bin/setup installs it)"
        pytest.skip("strace is not installed")
    inet, unix = strace_connects(hostile_crawl["trace"])
    assert inet == {("127.0.0.1", hostile_lab["state"]["socks"]["port"])}
    assert unix == [], "an AF_UNIX connect (e.g. nscd, a name lookup) was made"


def test_normal_sites_keep_their_pace_beside_the_hostile_site(
    hostile_crawl: dict[str, Any], baseline_crawl: dict[str, Any], hostile_lab: dict[str, Any]
) -> None:
    hosts = _normal_sites(hostile_lab["truth"])
    before = _rates(baseline_crawl["run_dir"], hosts)
    after = _rates(hostile_crawl["run_dir"], hosts)
    assert set(after) == set(before) == set(hosts.values())
    together = _together(baseline_crawl["run_dir"], hosts)
    together_now = _together(hostile_crawl["run_dir"], hosts)
    whole = min(1.0, together_now / together)  # never stricter than its own pace
    slow = {}
    for site, (rate, span, count) in sorted(before.items()):
        if span < MIN_SPAN:
            continue  # crawled in a few seconds: 1-second timestamps cannot time it
        now = after[site][0]
        if now < SITE_RATE_FLOOR * whole * rate:
            slow[site] = {"pages/s without": round(rate, 1), "with": round(now, 1),
                          "pages": count, "whole kept": round(whole, 2)}  # fmt: skip
    timed = [s for s, (_, span, _) in before.items() if span >= MIN_SPAN]
    assert timed, "no site took long enough to be timed"
    print(
        f"normal sites together: {together:.1f} pages/s without, {together_now:.1f} with; "
        f"each: { {s: (round(before[s][0], 1), round(after[s][0], 1)) for s in before} }"
    )
    stalls = _stalls(hostile_crawl["run_dir"], hosts)
    assert together_now >= RATE_FLOOR * together, (together, together_now, stalls)
    assert not slow, (slow, stalls)
