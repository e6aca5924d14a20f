"""docker-compose.yml, validated without a Docker engine by Docker Compose v2 itself.

The validator is the Compose standalone that ``bash bin/compose fetch`` builds from its Go
module (the release pinned in ``bin/compose``; ``bin/test`` builds it before pytest, so CI
always has it). ``config`` needs no daemon: with ``--env-file .env.example`` it must pass
quietly (no error, no warning), and broken copies of the file must fail. Its rendered model
(``config --format json``) is checked: the lab builds from ``lab/Dockerfile``, publishes
nothing, runs the foreground command, has a healthcheck calling ``onionlab lab health``; the
whole stack (setup, Elasticsearch, Kibana, provision, crawler) publishes only on 127.0.0.1,
on the ports of ``.env.example``, runs the Elastic images of its ``STACK_VERSION``, every
long-running service has a healthcheck, every dependency waits for health or a successful
exit, secrets come only from ``.env`` (placeholders in ``.env.example``), and neither the lab
nor the crawler has a route out. Without the binary every test here fails, naming the command
that builds it: none is skipped. lab/Dockerfile: tests/lab/test_dockerfile.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
SCRIPT = REPO / "bin" / "compose"
FOREGROUND = ["up", "--foreground", "--data-dir", "/data"]
HEALTH = ["onionlab", "lab", "health", "--data-dir", "/data"]
ONE_SHOT = {"setup", "provision", "crawler"}  # run to completion; the rest keep running
SECRETS = re.compile(r"PASSWORD|ENCRYPTIONKEY|ENCRYPTION_KEY|SECRET|TOKEN|API_KEY")


@pytest.fixture(scope="module")
def validator() -> str:
    """The Compose v2 binary bin/compose built; a failure (never a skip) without it."""
    found = subprocess.run(
        ["bash", str(SCRIPT), "path"], capture_output=True, text=True, timeout=30
    )
    if found.returncode != 0:
        pytest.fail(f"no Compose v2 to validate docker-compose.yml: {found.stderr.strip()}")
    return found.stdout.strip()


def _compose(
    validator: str,
    path: Path,
    *args: str,
    env_file: Path = ENV_EXAMPLE,
    project: str | None = "onionlab-test",
) -> subprocess.CompletedProcess[str]:
    # Only the placeholders of .env.example, and none of the caller's COMPOSE_* settings.
    drop = {*_env_example(), "COMPOSE_PROJECT_NAME"}
    environ = {k: v for k, v in os.environ.items() if k not in drop and "COMPOSE" not in k}
    if project:
        environ["COMPOSE_PROJECT_NAME"] = project
    return subprocess.run(
        [
            *(validator, "--project-directory", str(path.parent)),
            *("--env-file", str(env_file), "-f", str(path), *args),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
        env=environ,
    )


def _env_example() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def _rendered(validator: str, path: Path = COMPOSE, *args: str) -> dict[str, Any]:
    shown = _compose(validator, path, "config", "--format", "json", *args)
    assert shown.returncode == 0, f"Compose rejects {path.name}:\n{shown.stderr}"
    return json.loads(shown.stdout)


@pytest.fixture(scope="module")
def config(validator: str) -> dict[str, Any]:
    """The compose file as Compose v2 resolves it with .env.example."""
    return _rendered(validator)


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = COMPOSE.read_text()
    assert old in text, f"the compose file no longer has {old!r}: update this test"
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(text.replace(old, new, 1))
    return copy


def _published_beyond_loopback(config: dict[str, Any]) -> list[str]:
    return [
        f"{name}: {port}"
        for name, service in config["services"].items()
        for port in service.get("ports") or []
        if port.get("host_ip") != "127.0.0.1"
    ]


# -- the validator, and that it can fail ---------------------------------------------------


def test_the_validator_is_the_pinned_compose_v2(validator: str) -> None:
    pinned = re.search(r"^VERSION=v(\S+)$", SCRIPT.read_text(), re.MULTILINE)
    assert pinned, "bin/compose pins no VERSION"
    shown = subprocess.run(
        [validator, "version", "--short"], capture_output=True, text=True, timeout=30
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == pinned[1]
    assert int(pinned[1].split(".")[0]) >= 2  # Compose v2 and later, never the 1.x Python one


def test_the_compose_file_passes_without_a_warning(validator: str) -> None:
    quiet = _compose(validator, COMPOSE, "config", "--quiet")
    assert quiet.returncode == 0, f"Compose rejects docker-compose.yml:\n{quiet.stderr}"
    assert quiet.stdout == "" and quiet.stderr == "", quiet.stderr


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("    ports:\n", "    porst:\n", "services.elasticsearch.porst"),
        ("condition: service_healthy", "condition: service_ready", "must be one of"),
        ("      setup:\n        condition", "      setpu:\n        condition", "undefined service"),
        ("retries: 120", "retries: many", "healthcheck.retries"),
        ("interval: 2s", "interval: soon", 'invalid duration "soon"'),
    ],
    ids=["unknown key", "unknown condition", "undefined service", "not a number", "not a time"],
)
def test_compose_rejects_a_broken_copy(
    validator: str, tmp_path: Path, old: str, new: str, said: str
) -> None:
    result = _compose(validator, _broken_copy(tmp_path, old, new), "config", "--quiet")
    assert result.returncode != 0, "Compose accepted a broken file"
    assert said in result.stderr, result.stderr


def test_an_obsolete_version_key_is_a_warning_the_suite_sees(
    validator: str, tmp_path: Path
) -> None:
    copy = _broken_copy(tmp_path, "\nservices:\n", '\nversion: "3.8"\nservices:\n')
    result = _compose(validator, copy, "config", "--quiet")
    assert result.returncode == 0
    assert "`version` is obsolete" in result.stderr


def test_a_port_published_beyond_loopback_is_caught(validator: str, tmp_path: Path) -> None:
    copy = _broken_copy(tmp_path, '"127.0.0.1:${ES_PORT:-9200}:9200"', '"${ES_PORT:-9200}:9200"')
    assert _published_beyond_loopback(_rendered(validator, copy)) != []


def test_without_an_env_file_the_stack_names_the_missing_secret(
    validator: str, tmp_path: Path
) -> None:
    empty = tmp_path / ".env"
    empty.write_text("STACK_VERSION=8.19.0\n")
    result = _compose(validator, COMPOSE, "config", "--quiet", env_file=empty)
    assert result.returncode != 0
    assert "required variable ELASTIC_PASSWORD is missing" in result.stderr
    assert "set ELASTIC_PASSWORD in .env" in result.stderr


def test_the_project_is_named_onionlab_wherever_it_is_checked_out(
    validator: str, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "checkout-elsewhere" / "docker-compose.yml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(COMPOSE.read_text())
    shown = _compose(validator, elsewhere, "config", "--format", "json", project=None)
    assert shown.returncode == 0, shown.stderr
    model = json.loads(shown.stdout)
    assert model["name"] == "onionlab"
    assert model["volumes"]["certs"]["name"] == "onionlab_certs"
    assert model["networks"]["labnet"]["name"] == "onionlab_labnet"


# -- the lab ------------------------------------------------------------------------------


def test_lab_builds_from_the_lab_dockerfile(config: dict[str, Any]) -> None:
    build = config["services"]["lab"]["build"]
    assert Path(build["context"]).resolve() == REPO
    assert build["dockerfile"] == "lab/Dockerfile"


def test_lab_runs_the_foreground_command_with_init(config: dict[str, Any]) -> None:
    lab = config["services"]["lab"]
    assert lab["command"] == FOREGROUND
    assert lab.get("entrypoint") is None  # the image's ENTRYPOINT ["onionlab"]
    assert lab.get("init") is True


def test_lab_has_a_healthcheck_calling_the_health_command(config: dict[str, Any]) -> None:
    check = config["services"]["lab"]["healthcheck"]
    assert not check.get("disable")
    assert check["test"] == ["CMD", *HEALTH]
    assert "start_period" in check and "timeout" in check


def test_nothing_of_the_lab_is_published(config: dict[str, Any]) -> None:
    lab = config["services"]["lab"]
    assert not lab.get("ports")
    assert not lab.get("expose")
    # No network besides its loopback, or only internal networks (no route out).
    if lab.get("network_mode") != "none":
        assert "network_mode" not in lab, lab["network_mode"]
        networks = config.get("networks") or {}
        for name in lab.get("networks") or ["default"]:
            assert (networks.get(name) or {}).get("internal") is True, name


def test_lab_is_hardened_and_keeps_state_in_a_volume(config: dict[str, Any]) -> None:
    lab = config["services"]["lab"]
    assert lab["cap_drop"] == ["ALL"]
    assert not lab.get("cap_add")
    assert lab.get("privileged") is not True
    assert "no-new-privileges:true" in lab.get("security_opt", [])
    user = str(lab.get("user", ""))
    assert user and user.split(":")[0] not in ("0", "root")
    data = [v for v in lab["volumes"] if v["target"] == "/data"]
    assert data and data[0]["type"] == "volume" and data[0]["source"] in config["volumes"]


def test_crawler_style_services_share_the_lab_network(config: dict[str, Any]) -> None:
    # Whatever joins the lab later must do it through the lab's namespace, never by a port.
    for name, service in config["services"].items():
        mode = service.get("network_mode", "")
        if mode.startswith("service:"):
            assert mode == "service:lab", f"{name}: {mode}"


# -- the whole stack: Elasticsearch, Kibana, provisioning, crawler -----------------------


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """``{target: (source, read_only)}`` of a rendered service."""
    return {
        volume["target"]: (volume["source"], volume.get("read_only") is True)
        for volume in service.get("volumes") or []
    }


def test_the_stack_has_its_services_on_the_stack_version(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {*ONE_SHOT, "elasticsearch", "kibana", "lab"}
    version = _env_example()["STACK_VERSION"]
    images = {
        "setup": "elasticsearch",
        "elasticsearch": "elasticsearch",
        "kibana": "kibana",
    }
    for name, image in images.items():
        assert config["services"][name]["image"] == f"docker.elastic.co/{image}/{image}:{version}"


def test_only_elasticsearch_and_kibana_publish_on_loopback(config: dict[str, Any]) -> None:
    assert _published_beyond_loopback(config) == []
    env = _env_example()
    published = {
        name: [(p["host_ip"], p["published"], p["target"]) for p in service["ports"]]
        for name, service in config["services"].items()
        if service.get("ports")
    }
    assert published == {
        "elasticsearch": [("127.0.0.1", env["ES_PORT"], 9200)],
        "kibana": [("127.0.0.1", env["KIBANA_PORT"], 5601)],
    }


def test_stack_version_matches_the_kibana_objects() -> None:
    from onionlab.crawler.kibana.bundle import KIBANA_VERSION

    assert _env_example()["STACK_VERSION"].startswith(f"{KIBANA_VERSION}.")


def test_every_long_running_service_has_a_healthcheck(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        if name in ONE_SHOT:
            assert service.get("restart", "no") == "no", f"{name} is one-shot: no restart"
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_every_dependency_waits_for_health_or_success(config: dict[str, Any]) -> None:
    services = config["services"]
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert rule.get("required", True) is True, f"{name} → {target} is optional"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{name} → {target}"
            else:
                assert condition == "service_completed_successfully", f"{name} → {target}"
                assert target in ONE_SHOT, f"{name} waits for {target} to exit: it never does"
    assert services["provision"]["depends_on"]["kibana"]["condition"] == "service_healthy"
    crawler = services["crawler"]["depends_on"]
    assert crawler["provision"]["condition"] == "service_completed_successfully"
    assert crawler["lab"]["condition"] == "service_healthy"


def test_provision_sets_up_indices_then_kibana(config: dict[str, Any]) -> None:
    provision = config["services"]["provision"]
    script = " ".join(provision["entrypoint"] + provision["command"])
    assert script.index("onionlab index setup") < script.index("onionlab kibana setup")
    assert "&&" in script  # no Kibana import after a failed index setup
    source, read_only = _mounts(provision)[provision["environment"]["ONIONLAB_KIBANA_OBJECTS"]]
    assert Path(source).resolve() == REPO / "kibana" / "objects"
    assert read_only


def test_onionlab_services_use_the_lab_image_unprivileged(config: dict[str, Any]) -> None:
    services = config["services"]
    for name in ("provision", "crawler"):
        service = services[name]
        assert service["image"] == services["lab"]["image"]
        assert service.get("pull_policy") == "never", f"{name} would pull the lab image"
        assert service["cap_drop"] == ["ALL"] and service.get("read_only") is True
        assert str(service["user"]).split(":")[0] not in ("0", "root")


def test_the_crawler_reaches_tor_and_elasticsearch_but_nothing_else(
    config: dict[str, Any],
) -> None:
    services, networks = config["services"], config.get("networks") or {}
    crawler = services["crawler"]
    assert crawler["network_mode"] == "service:lab"
    assert crawler["environment"]["ONIONLAB_ES_URL"] == "https://elasticsearch:9200"
    lab_networks = list(services["lab"].get("networks") or [])
    assert lab_networks and all(networks[n].get("internal") is True for n in lab_networks)
    # Every peer on the lab's networks: the lab itself and Elasticsearch (no proxy, no router).
    peers = {
        name
        for name, service in services.items()
        if set(service.get("networks") or []) & set(lab_networks)
    }
    assert peers == {"lab", "elasticsearch"}
    assert not crawler.get("ports") and not crawler.get("expose")


def test_the_stack_reads_every_secret_from_the_env_file(
    validator: str, config: dict[str, Any]
) -> None:
    placeholders = {k: v for k, v in _env_example().items() if SECRETS.search(k)}
    assert set(placeholders) >= {"ELASTIC_PASSWORD", "KIBANA_PASSWORD", "ONIONLAB_ES_PASSWORD"}
    for key, value in placeholders.items():
        assert value.startswith("change-me"), f".env.example: {key} is not a placeholder"
    # As written (anchors merged, nothing interpolated): each secret is a required variable.
    raw = _rendered(validator, COMPOSE, "--no-interpolate")
    for name, service in raw["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRETS.search(key.upper().replace(".", "_")):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), f"{name}: {key}"
    # ... and the resolved config carries exactly the placeholders.
    secrets = {
        value
        for service in config["services"].values()
        for key, value in (service.get("environment") or {}).items()
        if SECRETS.search(key.upper().replace(".", "_"))
    }
    assert secrets and secrets <= set(placeholders.values())


def test_elasticsearch_is_secured_and_kibana_trusts_its_ca(config: dict[str, Any]) -> None:
    services = config["services"]
    es = services["elasticsearch"]["environment"]
    assert es["xpack.security.enabled"] == "true"
    assert es["xpack.security.http.ssl.enabled"] == "true"
    assert es["discovery.type"] == "single-node"
    assert services["elasticsearch"].get("mem_limit")
    kibana = services["kibana"]["environment"]
    assert kibana["ELASTICSEARCH_HOSTS"].startswith("https://")
    assert kibana["ELASTICSEARCH_USERNAME"] == "kibana_system"
    assert kibana["ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"].endswith("ca/ca.crt")
    check = " ".join(services["elasticsearch"]["healthcheck"]["test"])
    assert "curl" in check and "--cacert" in check and "https://" in check


def test_the_setup_script_exists_and_parses(config: dict[str, Any]) -> None:
    setup = config["services"]["setup"]
    (target,) = [t for t in setup["command"] if t in _mounts(setup)]
    source, read_only = _mounts(setup)[target]
    assert Path(source).is_file() and read_only
    syntax = subprocess.run(["bash", "-n", source], capture_output=True, timeout=30)
    assert syntax.returncode == 0, syntax.stderr
    text = Path(source).read_text()
    assert "elasticsearch-certutil" in text and "kibana_system/_password" in text
