"""``onionlab plugins new``: a plugin project whose tests pass as written, loadable at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from onionlab.crawler.commands import cli

VENV_BIN = Path(sys.executable).parent


def new(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["plugins", "new", *map(str, args)])


def test_writes_a_plugin_its_test_and_a_sample_page(tmp_path: Path) -> None:
    result = new("my_market", "--dir", tmp_path)

    assert result.exit_code == 0, result.output
    root = tmp_path / "my_market"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "my_market.py",
        "tests/pages/sample.html",
        "tests/test_my_market.py",
    ]
    assert f"onionlab extract --plugins-dir {root} {root}/tests/pages/sample.html" in result.stdout
    assert f"pytest {root}/tests" in result.stdout
    assert f"export ONIONLAB_PLUGINS_DIR={root}" in result.stdout


def test_the_generated_tests_pass_and_the_code_is_lint_clean(tmp_path: Path) -> None:
    assert new("my_market", "--dir", tmp_path).exit_code == 0
    root = tmp_path / "my_market"
    # A fresh pytest in the project directory, as the instructor runs it (no repo config).
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout
    rules = ["--select", "E,F,W,I,B,UP,SIM,RUF"]
    for check in (["check", "--isolated", *rules], ["format", "--isolated", "--check"]):
        lint = subprocess.run(
            [VENV_BIN / "ruff", *check, "."],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_generated_plugin_loads_from_its_directory_and_reads_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert new("my_market", "--dir", tmp_path).exit_code == 0
    root = tmp_path / "my_market"
    monkeypatch.setenv("ONIONLAB_LOAD_PLUGINS", "my_market")

    result = CliRunner().invoke(
        cli,
        ["extract", "--json", "--plugins-dir", str(root), str(root / "tests/pages/sample.html")],
    )

    assert result.exit_code == 0, result.output
    [listing] = json.loads(result.stdout)["listings"]
    assert (listing["listing_id"], listing["title"]) == ("1001", "Northern Lights 3.5 g")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("my-market", "invalid plugin name 'my-market': use a lower-case Python identifier such "
         "as 'my_market'"),
        ("MyMarket", "invalid plugin name 'MyMarket': use a lower-case Python identifier such "
         "as 'mymarket'"),
        ("2market", "invalid plugin name '2market'"),
        ("class", "invalid plugin name 'class'"),
        ("test_market", "pytest would collect it as a test"),
        ("bazaar", "a plugin named 'bazaar' is already installed"),
    ],
)  # fmt: skip
def test_refuses_names_that_would_not_work(tmp_path: Path, name: str, why: str) -> None:
    result = new(name, "--dir", tmp_path)

    assert result.exit_code == 1
    assert why in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_an_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "my_market").mkdir()
    (tmp_path / "my_market" / "notes.txt").write_text("keep me")

    result = new("my_market", "--dir", tmp_path)

    assert result.exit_code == 1
    assert f"{tmp_path / 'my_market'} already exists" in result.stderr
    assert [p.name for p in (tmp_path / "my_market").iterdir()] == ["notes.txt"]


def test_default_directory_is_the_current_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [VENV_BIN / "onionlab", "plugins", "new", "shop_x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ONIONLAB_DATA": ""},
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "shop_x" / "shop_x.py").is_file()
    assert "pytest shop_x/tests" in result.stdout
    assert 'export ONIONLAB_PLUGINS_DIR="$PWD/shop_x"' in result.stdout
