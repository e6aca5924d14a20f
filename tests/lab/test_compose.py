"""The container files, checked without a Docker engine: docker-compose.yml and lab/Dockerfile.

``docker-compose.yml`` is validated by Debian's ``docker-compose`` (1.29, package
``docker-compose``; ``config`` needs no daemon) with ``--env-file .env.example``, and its
normalised output is checked: the lab builds from ``lab/Dockerfile``, publishes nothing,
runs the foreground command, has a healthcheck calling ``onionlab lab health``; the whole
stack (setup, Elasticsearch, Kibana, provision, crawler) publishes only on 127.0.0.1, every
long-running service has a healthcheck, every dependency waits for health or a successful
exit, secrets come only from ``.env`` (placeholders in ``.env.example``), and neither the
lab nor the crawler has a route out. Without the validator the test fails in CI (``$CI``
set) and is skipped elsewhere. ``lab/Dockerfile`` and ``.dockerignore`` get a small static
check (instructions, base image, non-root user, no piped installers).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "lab" / "Dockerfile"
FOREGROUND = ["up", "--foreground", "--data-dir", "/data"]
HEALTH = ["onionlab", "lab", "health", "--data-dir", "/data"]
INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip
# YAML → JSON, run by whichever interpreter has PyYAML (docker-compose's own always has).
TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"


def _validator() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        message = (
            "docker-compose (Debian package `docker-compose`) is needed to validate "
            "docker-compose.yml; install it with `apt-get install --no-install-recommends "
            "docker-compose`"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _compose(
    validator: str, path: Path, *args: str, env_file: Path = ENV_EXAMPLE
) -> subprocess.CompletedProcess[str]:
    # Only the placeholders of .env.example: nothing from the caller's environment leaks in.
    environ = {k: v for k, v in os.environ.items() if k not in _env_example()}
    return subprocess.run(
        [
            *(validator, "--project-directory", str(path.parent)),
            *("--env-file", str(env_file), "-f", str(path), *args),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
        env={**environ, "COMPOSE_PROJECT_NAME": "onionlab-test"},
    )


def _env_example() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def _yaml_as_json(validator: str, text: str) -> Any:
    converted = subprocess.run(
        [_yaml_interpreter(validator), "-c", TO_JSON],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert converted.returncode == 0, converted.stderr
    return json.loads(converted.stdout)


def _yaml_interpreter(validator: str) -> str:
    """An interpreter that can import yaml: ours, else the one docker-compose runs on."""
    candidates = [sys.executable]
    first = Path(validator).read_bytes()[:200].split(b"\n", 1)[0]
    if first.startswith(b"#!"):
        candidates.append(first[2:].decode().strip().split()[0])
    for interpreter in candidates:
        probe = subprocess.run([interpreter, "-c", "import yaml"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return interpreter
    pytest.fail("no Python interpreter with PyYAML found to read `docker-compose config`")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The compose file as the validator normalises it (validation included)."""
    validator = _validator()
    quiet = _compose(validator, COMPOSE, "config", "-q")
    assert quiet.returncode == 0, f"docker-compose rejects docker-compose.yml:\n{quiet.stderr}"
    shown = _compose(validator, COMPOSE, "config")
    assert shown.returncode == 0, shown.stderr
    return _yaml_as_json(validator, shown.stdout)


def test_the_validator_catches_mistakes(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  lab:\n    image: debian:12-slim\n    porst: ['80:80']\n")
    result = _compose(_validator(), broken, "config", "-q")
    assert result.returncode != 0
    assert "porst" in result.stderr


def test_lab_builds_from_the_lab_dockerfile(config: dict[str, Any]) -> None:
    build = config["services"]["lab"]["build"]
    assert Path(build["context"]).resolve() == REPO
    assert build["dockerfile"] == "lab/Dockerfile"


def test_lab_runs_the_foreground_command_with_init(config: dict[str, Any]) -> None:
    lab = config["services"]["lab"]
    assert lab["command"] == FOREGROUND
    assert "entrypoint" not in lab  # the image's ENTRYPOINT ["onionlab"]
    assert lab.get("init") is True


def test_lab_has_a_healthcheck_calling_the_health_command(config: dict[str, Any]) -> None:
    check = config["services"]["lab"]["healthcheck"]
    assert not check.get("disable")
    assert check["test"] == ["CMD", *HEALTH]
    assert "start_period" in check and "timeout" in check


def test_nothing_of_the_lab_is_published(config: dict[str, Any]) -> None:
    lab = config["services"]["lab"]
    assert "ports" not in lab
    assert "expose" not in lab
    # No network besides its loopback, or only internal networks (no route out).
    if lab.get("network_mode") != "none":
        assert "network_mode" not in lab, lab["network_mode"]
        networks = config.get("networks") or {}
        for name in lab.get("networks") or ["default"]:
            assert (networks.get(name) or {}).get("internal") is True, name


def test_every_published_port_is_bound_to_loopback(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        for port in service.get("ports") or []:
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond 127.0.0.1"


def test_lab_is_hardened_and_keeps_state_in_a_volume(config: dict[str, Any]) -> None:
    lab = config["services"]["lab"]
    assert lab["cap_drop"] == ["ALL"]
    assert "cap_add" not in lab
    assert lab.get("privileged") is not True
    assert "no-new-privileges:true" in lab.get("security_opt", [])
    user = str(lab.get("user", ""))
    assert user and user.split(":")[0] not in ("0", "root")
    volumes = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in lab["volumes"]]
    data = [v for v in volumes if v.split(":")[1] == "/data"]
    assert data and data[0].split(":")[0] in config["volumes"], volumes


def test_crawler_style_services_share_the_lab_network(config: dict[str, Any]) -> None:
    # Whatever joins the lab later must do it through the lab's namespace, never by a port.
    for name, service in config["services"].items():
        mode = service.get("network_mode", "")
        if mode.startswith("service:"):
            assert mode == "service:lab", f"{name}: {mode}"


# -- the whole stack: Elasticsearch, Kibana, provisioning, crawler -----------------------

ONE_SHOT = {"setup", "provision", "crawler"}  # run to completion; the rest keep running
SECRETS = re.compile(r"PASSWORD|ENCRYPTIONKEY|ENCRYPTION_KEY|SECRET|TOKEN|API_KEY")


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """``{target: (source, read_only)}``; docker-compose 1.29 prints short ``src:dst:mode``."""
    found = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            found[target] = (source, mode == ["ro"])
        else:
            found[volume["target"]] = (volume["source"], volume.get("read_only") is True)
    return found


def test_the_stack_has_its_services(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {*ONE_SHOT, "elasticsearch", "kibana", "lab"}
    version = _env_example()["STACK_VERSION"]
    for name, image in (("elasticsearch", "elasticsearch"), ("kibana", "kibana")):
        assert config["services"][name]["image"] == f"docker.elastic.co/{image}/{image}:{version}"


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
    assert "ports" not in crawler and "expose" not in crawler


def test_the_stack_reads_every_secret_from_the_env_file(config: dict[str, Any]) -> None:
    placeholders = {k: v for k, v in _env_example().items() if SECRETS.search(k)}
    assert set(placeholders) >= {"ELASTIC_PASSWORD", "KIBANA_PASSWORD", "ONIONLAB_ES_PASSWORD"}
    for key, value in placeholders.items():
        assert value.startswith("change-me"), f".env.example: {key} is not a placeholder"
    raw = _yaml_as_json(_validator(), COMPOSE.read_text())
    for name, service in raw["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRETS.search(key.upper().replace(".", "_")):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), f"{name}: {key}"
    # ... and the normalised config carries exactly the placeholders.
    secrets = {
        value
        for service in config["services"].values()
        for key, value in (service.get("environment") or {}).items()
        if SECRETS.search(key.upper().replace(".", "_"))
    }
    assert secrets and secrets <= set(placeholders.values())


def test_without_an_env_file_the_stack_names_the_missing_secret(tmp_path: Path) -> None:
    empty = tmp_path / ".env"
    empty.write_text("STACK_VERSION=8.19.0\n")
    result = _compose(_validator(), COMPOSE, "config", "-q", env_file=empty)
    assert result.returncode != 0
    assert "PASSWORD in .env" in result.stderr


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


# -- lab/Dockerfile ----------------------------------------------------------------------


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) for each instruction, continuation lines joined."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by Docker
        pending += " " + line[:-1] if line.endswith("\\") else " " + line
        if not line.endswith("\\"):
            keyword, _, args = pending.strip().partition(" ")
            found.append((keyword.upper(), args.strip()))
            pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return _instructions(DOCKERFILE.read_text())


def test_dockerfile_instructions_parse(dockerfile: list[tuple[str, str]]) -> None:
    unknown = [kw for kw, _ in dockerfile if kw not in INSTRUCTIONS]
    assert not unknown, unknown
    first = next(i for i, (kw, _) in enumerate(dockerfile) if kw != "ARG")
    assert dockerfile[first] == ("FROM", "debian:12-slim")
    for keyword in ("ENTRYPOINT", "CMD", "HEALTHCHECK"):
        assert sum(kw == keyword for kw, _ in dockerfile) == 1, keyword


def test_dockerfile_runs_the_foreground_lab(dockerfile: list[tuple[str, str]]) -> None:
    args = dict(dockerfile)
    assert json.loads(args["ENTRYPOINT"]) == ["onionlab"]
    assert json.loads(args["CMD"]) == FOREGROUND
    check = args["HEALTHCHECK"]
    assert json.loads(check[check.index("CMD") + 3 :]) == HEALTH


def test_dockerfile_installs_debian_tor_without_starting_it(
    dockerfile: list[tuple[str, str]],
) -> None:
    runs = [args for kw, args in dockerfile if kw == "RUN"]
    install = next(i for i, run in enumerate(runs) if "apt-get install" in run)
    before = " ".join(runs[: install + 1])
    assert "policy-rc.d" in before and "exit 101" in before
    assert before.index("policy-rc.d") < before.index("apt-get install")
    packages = runs[install].split("apt-get install", 1)[1]
    for package in ("tor", "python3", "python3-venv"):
        assert re.search(rf"(?<![\w-]){re.escape(package)}(?![\w-])", packages), package
    assert "--no-install-recommends" in packages
    assert any("venv" in run and "pip" in run and "install" in run for run in runs)


def test_dockerfile_has_no_piped_installers_or_remote_adds(
    dockerfile: list[tuple[str, str]],
) -> None:
    for keyword, args in dockerfile:
        assert not re.search(r"\b(curl|wget)\b[^|;&]*\|\s*(ba|da|z)?sh\b", args), args
        if keyword == "ADD":
            assert "://" not in args, args


def test_dockerfile_runs_as_a_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    users = [args for kw, args in dockerfile if kw == "USER"]
    assert users, "no USER instruction: the lab would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    last_user = max(i for i, (kw, _) in enumerate(dockerfile) if kw == "USER")
    assert all(kw != "RUN" for kw, _ in dockerfile[last_user:]), "RUN after the final USER"


def test_dockerfile_copies_only_what_exists(dockerfile: list[tuple[str, str]]) -> None:
    for keyword, args in dockerfile:
        if keyword == "COPY":
            sources = [s for s in args.split()[:-1] if not s.startswith("--")]
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".git", ".venv", "onionlab-data", "**/__pycache__", ".pytest_cache"):
        assert needed in patterns, needed


# -- the commands the container runs exist ----------------------------------------------


def _onionlab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onionlab", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "ONIONLAB_DATA": ""},
    )


def test_the_container_commands_exist() -> None:
    up = _onionlab("up", "--help")
    assert up.returncode == 0 and "--foreground" in up.stdout, up.stdout + up.stderr
    health = _onionlab("lab", "health", "--help")
    assert health.returncode == 0, health.stderr


def test_health_fails_without_a_lab(tmp_path: Path) -> None:
    result = _onionlab("lab", "health", "--data-dir", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
