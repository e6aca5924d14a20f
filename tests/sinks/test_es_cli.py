"""Settings precedence and the ``onionlab index`` commands as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from onionlab.crawler.commands import cli
from onionlab.crawler.sinks.elastic.client import (
    ElasticConfigError,
    make_client,
    resolve_settings,
    scrapy_flags,
)
from onionlab.crawler.sinks.elastic.pipeline import ElasticsearchPipeline
from tests.support.es_node import free_port


def test_flags_beat_environment_beat_config_file(tmp_path: Path) -> None:
    (tmp_path / "onionlab.toml").write_text(
        '[elasticsearch]\nurl = "http://127.0.0.1:9201"\nuser = "fromfile"\npassword = "s3cret"\n'
    )
    env = {"ONIONLAB_ES_URL": "http://127.0.0.1:9202"}
    from_file = resolve_settings(env={}, cwd=tmp_path)
    assert (from_file.url, from_file.user, from_file.password) == (
        "http://127.0.0.1:9201", "fromfile", "s3cret"
    )  # fmt: skip
    assert resolve_settings(env=env, cwd=tmp_path).url == "http://127.0.0.1:9202"
    flagged = resolve_settings({"url": "http://127.0.0.1:9203"}, env=env, cwd=tmp_path)
    assert flagged.url == "http://127.0.0.1:9203" and flagged.source == "flag"
    assert flagged.user == "fromfile"  # fields fall through independently
    assert "s3cret" not in repr(flagged) and "s3cret" not in flagged.describe()
    assert not resolve_settings(env={}, cwd=tmp_path / "nowhere").configured


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"url": "127.0.0.1:9200"}, "not an Elasticsearch URL"),
        ({"url": "http://x", "ca_cert": "/no/ca.crt"}, "CA certificate"),
    ],
)
def test_unusable_settings_say_why(flags: dict[str, str], message: str) -> None:
    with pytest.raises(ElasticConfigError, match=message):
        resolve_settings(flags, env={}, cwd=Path("/nonexistent"))


def test_one_ca_setting_with_the_old_name_as_a_deprecated_fallback(tmp_path: Path) -> None:
    current, old, flag = (tmp_path / name for name in ("ca.crt", "old.crt", "flag.crt"))
    for path in (current, old, flag):
        path.write_text("-----BEGIN CERTIFICATE-----\n")
    url = {"ONIONLAB_ES_URL": "https://127.0.0.1:9200"}

    both = resolve_settings(
        env=url | {"ONIONLAB_CA_CERT": str(current), "ONIONLAB_ES_CA_CERT": str(old)}, cwd=tmp_path
    )
    assert both.ca_cert == str(current) and both.warnings == ()
    fallback = resolve_settings(env=url | {"ONIONLAB_ES_CA_CERT": str(old)}, cwd=tmp_path)
    assert fallback.ca_cert == str(old)
    assert fallback.warnings == ("ONIONLAB_ES_CA_CERT is deprecated: set ONIONLAB_CA_CERT instead",)
    flagged = resolve_settings(
        {"ca_cert": str(flag)}, env=url | {"ONIONLAB_ES_CA_CERT": str(old)}, cwd=tmp_path
    )
    assert flagged.ca_cert == str(flag) and flagged.warnings == ()
    assert resolve_settings(env=url, cwd=tmp_path).ca_cert == ""

    # The CA is for TLS: a plain-HTTP cluster ignores it (it may be set for Kibana's sake).
    plain = resolve_settings(
        env={"ONIONLAB_ES_URL": "http://127.0.0.1:9200", "ONIONLAB_CA_CERT": str(current)},
        cwd=tmp_path,
    )
    assert make_client(plain).transport.node_pool.get().config.ca_certs is None
    assert make_client(both).transport.node_pool.get().config.ca_certs == str(current)

    # A crawl's Scrapy settings may use the environment's name for it.
    settings = get_crawler(settings_dict={"ONIONLAB_CA_CERT": str(current)}).settings
    assert scrapy_flags(settings)["ca_cert"] == str(current)


def test_the_index_commands_warn_about_the_deprecated_ca_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("ONIONLAB_ES_URL", f"https://127.0.0.1:{free_port()}")
    monkeypatch.delenv("ONIONLAB_CA_CERT", raising=False)
    monkeypatch.setenv("ONIONLAB_ES_CA_CERT", str(ca))
    code, _, err = run("setup")
    assert code == 5  # nothing listens; the warning comes first
    assert "warning: ONIONLAB_ES_CA_CERT is deprecated: set ONIONLAB_CA_CERT instead" in err
    monkeypatch.setenv("ONIONLAB_CA_CERT", str(ca))
    assert "deprecated" not in run("setup")[2]


def test_pipeline_is_off_without_a_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONIONLAB_ES_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    crawler = get_crawler(settings_dict={"ONIONLAB_RUN_DIR": str(tmp_path)})
    with pytest.raises(NotConfigured, match="ES_URL"):
        ElasticsearchPipeline.from_crawler(crawler)
    crawler = get_crawler(settings_dict={"ES_URL": "http://127.0.0.1:9"})
    with pytest.raises(NotConfigured, match="run directory"):
        ElasticsearchPipeline.from_crawler(crawler)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["index", *args])
    return result.exit_code, result.stdout, result.stderr


def test_unreachable_cluster_is_one_clear_line_and_exit_5(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ONIONLAB_ES_URL", url)
    code, _, err = run("setup")
    assert code == 5
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    assert url in line and "docker compose up -d elasticsearch" in line


def test_setup_load_status_round_trip(
    bare_es: Elasticsearch, real_node_url: str, known_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONIONLAB_ES_URL", real_node_url)
    code, out, _ = run("setup", "--json")
    assert code == 0
    assert {s["action"] for s in json.loads(out)["steps"]} == {"created"}
    code, _, err = run("setup")
    assert code == 0 and "0 created or updated" in err

    code, out, _ = run("load", str(known_run), "--json")
    assert code == 0
    loaded = json.loads(out)
    assert loaded["rejected"] == loaded["unavailable"] == 0
    assert loaded["indexed"] == loaded["read"]

    bare_es.indices.refresh(index="onionlab-*")
    code, out, _ = run("status", str(known_run), "--json")
    assert code == 0
    status = json.loads(out)
    assert status["reachable"] is True and status["spools"] == {}
    assert {
        alias: entry["docs"] for alias, entry in status["aliases"].items() if entry["docs"]
    } == {alias: n for alias, n in loaded["indexed"].items()}


def test_load_says_what_was_not_indexed_and_exits_1(
    bare_es: Elasticsearch, real_node_url: str, known_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONIONLAB_ES_URL", real_node_url)
    items = known_run / "items.ndjson"
    lines = items.read_text().splitlines()
    first_listing = next(i for i, line in enumerate(lines) if '"kind": "listing"' in line)
    doc = json.loads(lines[first_listing]) | {"price_usd": "ask me"}
    lines[first_listing] = json.dumps(doc)
    items.write_text("\n".join(lines) + "\n")

    code, out, err = run("load", str(known_run))
    assert code == 1
    # Two documents: the listing and its observation in this crawl.
    assert "2 rejected" in err and "price_usd" in err and "spool.ndjson" in err
    code, out, _ = run("status", str(known_run), "--json")
    assert json.loads(out)["spools"] == {str(known_run): {"rejected": 2}}


def test_the_spool_load_writes_is_recorded_in_the_manifest(
    bare_es: Elasticsearch, real_node_url: str, known_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sealed run whose load leaves a spool: verify still says intact, and lists the
    change onionlab made (a file added after the crawl by anyone else is a change)."""
    from onionlab.crawler.runs.manifest import write_manifest
    from tests.support.cli import onionlab

    monkeypatch.setenv("ONIONLAB_ES_URL", real_node_url)
    items = known_run / "items.ndjson"
    lines = items.read_text().splitlines()
    first_listing = next(i for i, line in enumerate(lines) if '"kind": "listing"' in line)
    lines[first_listing] = json.dumps(json.loads(lines[first_listing]) | {"price_usd": "?"})
    items.write_text("\n".join(lines) + "\n")
    sealed = write_manifest(known_run)
    code, out, _ = run("load", str(known_run), "--json")
    assert code == 1 and (known_run / "spool.ndjson").is_file()
    assert json.loads(out)["manifest_sha256"] != sealed
    checked = onionlab("verify", str(known_run))
    assert checked.returncode == 0, checked.stdout
    assert "recorded: " in checked.stdout and "onionlab index load changed spool.ndjson" in (
        checked.stdout
    )
