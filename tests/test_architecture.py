"""The project's architectural rules, checked on the source (read with ``ast``, nothing imported).

Each rule is one test on the repository, failing with ``path:line: what is wrong`` for every
offence (the checkers: :mod:`tests.support.architecture`):

- **crawler/** may import of the ``onionlab`` package only ``onionlab.crawler.*``: not
  ``onionlab.plugins`` nor ``onionlab.lab`` (the core loads them through entry points), nor the
  public face (``onionlab``, ``onionlab.items``, …), which is built on it.
- **lab/** may import only ``onionlab.lab.*`` and the public face: ``onionlab`` (whose
  ``__init__`` exports ``hookimpl``), ``onionlab.items``, ``onionlab.parsing`` and
  ``onionlab.testing``, the modules that docstring names; never ``onionlab.crawler``.
- **plugins/** may import only that same public plugin API and each other
  (``onionlab.plugins._markup`` and the like); nothing else of the core.
- **onionlab/**, the public face, may import only itself and ``onionlab.crawler.*``.
- Nowhere may ``crawler``, ``plugins`` or ``lab`` be imported as a top-level name: they are
  installed as ``onionlab.crawler``, ``onionlab.plugins``, ``onionlab.lab`` only.
- Every module of crawler/, plugins/, lab/, onionlab/, bench/ and tests/ opens with a docstring.
- No source module of crawler/, plugins/, lab/, onionlab/ or bench/ exceeds 400 lines (data
  files are not ``.py``; tests are not held to it).
- Every hook in ``crawler/hookspecs.py`` has a docstring saying what it is for, a
  ``:param x:`` for each argument and a ``:return:``.
- ``pyproject.toml``'s ``[tool.setuptools] packages`` lists exactly the package folders (with an
  ``__init__.py``) of crawler/, plugins/, lab/ and onionlab/, and no folder of theirs holds
  modules without an ``__init__.py``.

Imports count wherever they stand (in a function, under ``TYPE_CHECKING``), relative ones
resolved, and ``importlib.import_module("…")`` with a literal too. The second half runs every
checker on a small synthetic tree with one deliberate violation, so each check is shown to fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import architecture as arch

ROOT = Path(__file__).resolve().parents[1]


def _assert_none(found: list[str], rule: str) -> None:
    assert not found, f"{rule}:\n" + "\n".join(found)


@pytest.mark.parametrize("folder", sorted(arch.IMPORT_RULES))
def test_imports_stay_within_what_the_folder_may_use(folder: str) -> None:
    rule = arch.IMPORT_RULES[folder]
    _assert_none(arch.check_imports(ROOT, rule), f"what {folder}/ imports")


def test_every_module_has_a_docstring() -> None:
    _assert_none(arch.check_docstrings(ROOT), "every module opens with a docstring")


def test_no_source_module_exceeds_400_lines() -> None:
    _assert_none(arch.check_sizes(ROOT), f"source modules have at most {arch.MAX_LINES} lines")


def test_every_hook_is_documented() -> None:
    _assert_none(arch.check_hooks(ROOT), "every hook documents its arguments and return")


def test_pyproject_lists_every_package_folder() -> None:
    _assert_none(arch.check_packages(ROOT), "[tool.setuptools] packages is the package folders")


# --- each checker fails on a deliberate violation (a synthetic tree in tmp_path) ----------

PYPROJECT = """\
[tool.setuptools]
package-dir = { "onionlab" = "onionlab", "onionlab.crawler" = "crawler", \
"onionlab.plugins" = "plugins", "onionlab.lab" = "lab" }
packages = [
    "onionlab",
    "onionlab.crawler",
    "onionlab.crawler.kit",
    "onionlab.plugins",
    "onionlab.lab",
]
"""

HOOKSPECS = '''\
"""Hooks."""


@hookspec
def onionlab_extract(response):
    """Extract items.

    :param response: the page.
    :return: the items.
    """
'''

CLEAN = {
    "pyproject.toml": PYPROJECT,
    "onionlab/__init__.py": '"""The face."""\nfrom onionlab.crawler.hookspecs import hookimpl\n',
    "onionlab/items.py": '"""Items."""\nfrom onionlab.crawler.items import Listing\n',
    "crawler/__init__.py": '"""The core."""\n',
    "crawler/hookspecs.py": HOOKSPECS,
    "crawler/items.py": '"""Items."""\nfrom . import hookspecs\nfrom .kit import check\n',
    "crawler/kit/__init__.py": '"""Kit."""\n',
    "crawler/kit/check.py": '"""Check."""\nfrom ..items import Listing\nimport scrapy\n',
    "plugins/__init__.py": '"""Plugins."""\n',
    "plugins/_markup.py": '"""Markup."""\n',
    "plugins/shop.py": '"""A plugin."""\nfrom onionlab import hookimpl\n'
    "from onionlab.items import Listing\nfrom onionlab.plugins import _markup\n"
    "from . import _markup as again\nimport scrapy\n",
    "lab/__init__.py": '"""The lab."""\nfrom onionlab import hookimpl\n'
    "from onionlab.lab import x\nfrom onionlab.testing import extract\n",
    "lab/x.py": '"""X."""\n',
    "bench/speed.py": '"""Bench."""\n',
    "tests/test_x.py": '"""Tests."""\nimport crawler_like\n',
}


def tree(root: Path, changes: dict[str, str] | None = None) -> Path:
    """The clean synthetic tree in ``root``, with ``changes`` (``{path: text}``) made to it."""
    for rel, text in {**CLEAN, **(changes or {})}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def check_all(root: Path) -> list[str]:
    found = [v for rule in arch.IMPORT_RULES.values() for v in arch.check_imports(root, rule)]
    found += arch.check_docstrings(root) + arch.check_sizes(root) + arch.check_hooks(root)
    return found + arch.check_packages(root)


def test_the_clean_synthetic_tree_passes_every_check(tmp_path: Path) -> None:
    assert check_all(tree(tmp_path)) == []


@pytest.mark.parametrize(
    ("folder", "text", "line", "module"),
    [
        ("crawler", "from onionlab.lab import x", 3, "onionlab.lab.x"),
        ("crawler", "from onionlab import plugins", 3, "onionlab.plugins"),
        ("crawler", "from .. import lab", 3, "onionlab.lab"),
        ("crawler", "def f():\n    import plugins.shop", 4, "plugins.shop"),
        ("crawler", "import lab", 3, "lab"),
        ("crawler", "from crawler import items", 3, "crawler"),
        ("crawler", "from onionlab import hookimpl", 3, "onionlab"),
        ("crawler", "from onionlab.items import Listing", 3, "onionlab.items"),
        ("lab", "from onionlab.crawler.items import Listing", 3, "onionlab.crawler.items"),
        ("lab", "import importlib\nimportlib.import_module('onionlab.crawler')", 4,
         "onionlab.crawler"),
        ("lab", "from onionlab.plugins import shop", 3, "onionlab.plugins.shop"),
        ("lab", "import typing\nif typing.TYPE_CHECKING:\n    import onionlab.crawler", 5,
         "onionlab.crawler"),
        ("plugins", "from onionlab.crawler import items", 3, "onionlab.crawler.items"),
        ("plugins", "from onionlab import crawler", 3, "onionlab.crawler"),
        ("plugins", "from onionlab.lab import x", 3, "onionlab.lab.x"),
        ("plugins", "from .. import lab", 3, "onionlab.lab"),
        ("onionlab", "from onionlab.plugins import shop", 3, "onionlab.plugins.shop"),
    ],
)  # fmt: skip
def test_the_import_checks_fail_on_a_forbidden_import(
    tmp_path: Path, folder: str, text: str, line: int, module: str
) -> None:
    root = tree(tmp_path, {f"{folder}/bad.py": f'"""Bad."""\n\n{text}\n'})
    found = arch.check_imports(root, arch.IMPORT_RULES[folder])
    assert len(found) == 1 and found[0].startswith(f"{folder}/bad.py:{line}: imports {module}: ")


@pytest.mark.parametrize("path", ["crawler/kit/check.py", "plugins/shop.py", "tests/test_x.py"])
def test_the_docstring_check_fails_on_a_module_without_one(tmp_path: Path, path: str) -> None:
    root = tree(tmp_path, {path: "# a comment is no docstring\nx = 1\n"})
    assert arch.check_docstrings(root) == [f"{path}:1: has no module docstring"]


def test_the_size_check_fails_on_a_module_of_401_lines(tmp_path: Path) -> None:
    body = '"""Long."""\n' + "x = 1\n" * 399
    root = tree(
        tmp_path, {"lab/x.py": body, "lab/long.py": body + "y = 2\n", "tests/test_y.py": body * 2}
    )
    assert arch.check_sizes(root) == ["lab/long.py:401: 401 lines, more than 400"]


@pytest.mark.parametrize(
    ("hook", "expected"),
    [
        ("@hookspec\ndef h(a):\n    pass\n", "h has no docstring saying what it is for"),
        ('@hookspec\ndef h(a):\n    """:param a: x.\n    :return: y."""\n',
         "h has no docstring saying what it is for"),
        ('@hookspec\ndef h(a, b):\n    """H.\n\n    :param a: x.\n    :return: y."""\n',
         "h: argument 'b' has no ':param b:'"),
        ('@hookspec(firstresult=True)\ndef h(a):\n    """H.\n\n    :param a: x."""\n',
         "h: its docstring has no ':return:'"),
    ],
)  # fmt: skip
def test_the_hook_check_fails_on_an_undocumented_hook(
    tmp_path: Path, hook: str, expected: str
) -> None:
    root = tree(tmp_path, {"crawler/hookspecs.py": HOOKSPECS + "\n\n" + hook})
    assert arch.check_hooks(root) == [f"crawler/hookspecs.py:14: hook {expected}"]


def test_the_hook_check_fails_when_no_hook_is_found(tmp_path: Path) -> None:
    root = tree(tmp_path, {"crawler/hookspecs.py": '"""Hooks."""\n'})
    assert arch.check_hooks(root) == ["crawler/hookspecs.py:1: no @hookspec function found"]


def test_the_package_check_fails_on_an_unlisted_package(tmp_path: Path) -> None:
    root = tree(tmp_path, {"lab/world/__init__.py": '"""World."""\n'})
    assert arch.check_packages(root) == [
        "lab/world/__init__.py:1: package onionlab.lab.world is not listed in pyproject.toml "
        "[tool.setuptools] packages"
    ]


def test_the_package_check_fails_on_a_listed_folder_that_is_no_package(tmp_path: Path) -> None:
    listed = PYPROJECT.replace('"onionlab.lab",', '"onionlab.lab",\n    "onionlab.lab.gone",')
    root = tree(tmp_path, {"pyproject.toml": listed})
    assert arch.check_packages(root) == [
        "pyproject.toml:9: lists onionlab.lab.gone, which is no package folder"
    ]


def test_the_package_check_fails_on_modules_outside_any_package(tmp_path: Path) -> None:
    root = tree(tmp_path, {"plugins/extra/helpers.py": '"""Helpers."""\n'})
    assert arch.check_packages(root) == [
        "plugins/extra/helpers.py:1: its folder has no __init__.py"
    ]
