"""The lab's image, checked without a Docker engine: ``lab/Dockerfile`` and ``.dockerignore``
get a static check (instructions, base image, the foreground command and healthcheck, Debian's
tor installed without starting it, non-root user, no piped installers), and the commands the
container runs exist in this project's CLI. ``docker-compose.yml``: tests/lab/test_compose.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.cli import onionlab

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "lab" / "Dockerfile"
FOREGROUND = ["up", "--foreground", "--data-dir", "/data"]
HEALTH = ["onionlab", "lab", "health", "--data-dir", "/data"]
INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip


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


def test_the_container_commands_exist() -> None:
    up = onionlab("up", "--help")
    assert up.returncode == 0 and "--foreground" in up.stdout, up.stdout + up.stderr
    health = onionlab("lab", "health", "--help")
    assert health.returncode == 0, health.stderr


def test_health_fails_without_a_lab(tmp_path: Path) -> None:
    result = onionlab("lab", "health", "--data-dir", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
