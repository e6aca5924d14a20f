"""The checkers behind tests/test_architecture.py: the project's layout rules, read with ``ast``.

Nothing of the code under test is imported: each checker takes a repository root, reads its
files as text and returns the violations as ``path:line: message`` strings (paths relative
to the root), so the same checker runs on the real tree and on a small synthetic one.
Which folder installs as which package is read from the root's ``pyproject.toml``
(``[tool.setuptools] package-dir``). Depends on the standard library only.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "onionlab"
PACKAGE_FOLDERS = ("crawler", "plugins", "lab", "onionlab")
"""The folders that install as the ``onionlab`` package."""
DOCUMENTED_FOLDERS = (*PACKAGE_FOLDERS, "bench", "tests")
"""The folders whose every module must open with a docstring."""
SIZED_FOLDERS = (*PACKAGE_FOLDERS, "bench")
"""The folders of source modules held to :data:`MAX_LINES` (tests are not)."""
MAX_LINES = 400
BARE_NAMES = frozenset({"crawler", "plugins", "lab"})
"""Top-level names that were never installed: the folders import as ``onionlab.<name>``."""
PUBLIC_FACE = frozenset({"onionlab", "onionlab.items", "onionlab.parsing", "onionlab.testing"})
"""The plugin API: ``onionlab`` (``hookimpl``) and the modules its docstring names."""
HOOKSPECS = "crawler/hookspecs.py"


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _setuptools(root: Path) -> dict:
    with (root / "pyproject.toml").open("rb") as handle:
        return dict(tomllib.load(handle)["tool"]["setuptools"])


def package_dirs(root: Path) -> dict[str, str]:
    """``{dotted package: folder}`` from ``pyproject.toml``'s ``[tool.setuptools] package-dir``."""
    return dict(_setuptools(root).get("package-dir", {}))


def source_files(root: Path, folders: tuple[str, ...]) -> Iterator[Path]:
    """Every ``.py`` file under ``folders`` (caches and hidden folders left out), sorted."""
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            parts = path.relative_to(root).parts
            if not any(p == "__pycache__" or p.startswith(".") for p in parts):
                yield path


def module_name(root: Path, path: Path, dirs: dict[str, str]) -> str | None:
    """The dotted name ``path`` imports as, or ``None`` when it is outside the package."""
    rel = path.relative_to(root).with_suffix("").parts
    for dotted, folder in sorted(dirs.items(), key=lambda kv: -len(Path(kv[1]).parts)):
        head = Path(folder).parts
        if rel[: len(head)] == head:
            rest = [p for p in rel[len(head) :] if p != "__init__"]
            return ".".join([dotted, *rest])
    return None


def module_path(root: Path, name: str, dirs: dict[str, str]) -> Path | None:
    """The file of module ``name`` in the tree (``x.py`` or ``x/__init__.py``), if it is one."""
    for dotted, folder in sorted(dirs.items(), key=lambda kv: -len(kv[0])):
        if _within(name, dotted):
            rest = name[len(dotted) :].split(".")[1:]
            base = root / folder / Path(*rest) if rest else root / folder
            candidates = [base / "__init__.py"] + ([base.with_suffix(".py")] if rest else [])
            return next((c for c in candidates if c.is_file()), None)
    return None


def _relative(current: str, is_package: bool, level: int, module: str | None) -> str:
    parts = current.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*parts, *([module] if module else [])])


def imports(root: Path, path: Path, dirs: dict[str, str]) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every module ``path`` imports, anywhere in it.

    Relative imports are resolved; ``from a import b`` imports ``a`` and, when ``a.b`` is a
    module of the tree, ``a.b``; ``importlib.import_module("x")`` with a literal imports ``x``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    current = module_name(root, path, dirs) or path.stem
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _relative(current, path.name == "__init__.py", node.level, node.module)
            yield node.lineno, base
            for alias in node.names:
                if module_path(root, f"{base}.{alias.name}", dirs):
                    yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if called in ("import_module", "__import__") and literal:
                yield node.lineno, first.value


@dataclass(frozen=True)
class ImportRule:
    """What the modules of one folder may import of the ``onionlab`` package."""

    folder: str
    allowed: Callable[[str], bool]
    says: str


IMPORT_RULES = {
    "crawler": ImportRule(
        "crawler",
        lambda name: _within(name, "onionlab.crawler"),
        "crawler/ may import only onionlab.crawler.* (not the plugins, the lab nor the "
        "public face, which is built on it)",
    ),
    "lab": ImportRule(
        "lab",
        lambda name: _within(name, "onionlab.lab") or name in PUBLIC_FACE,
        "lab/ may import only onionlab.lab.* and the public face "
        f"({', '.join(sorted(PUBLIC_FACE))})",
    ),
    "plugins": ImportRule(
        "plugins",
        lambda name: _within(name, "onionlab.plugins") or name in PUBLIC_FACE,
        "plugins/ may import only the public plugin API "
        f"({', '.join(sorted(PUBLIC_FACE))}) and onionlab.plugins.*",
    ),
    "onionlab": ImportRule(
        "onionlab",
        lambda name: name in PUBLIC_FACE or name == "onionlab.__main__"
        or _within(name, "onionlab.crawler"),
        "the public face onionlab/ may import only itself and onionlab.crawler.*",
    ),
}  # fmt: skip


def check_imports(root: Path, rule: ImportRule) -> list[str]:
    """Imports in ``rule.folder`` of what it may not use, or of a never-installed bare name."""
    dirs = package_dirs(root)
    found = []
    for path in source_files(root, (rule.folder,)):
        rel = path.relative_to(root)
        offences: dict[int, tuple[str, str]] = {}  # a line's most specific offending module
        for line, name in imports(root, path, dirs):
            top = name.split(".")[0]
            if top in BARE_NAMES:
                says = f"write onionlab.{name}"
            elif top == PACKAGE and not rule.allowed(name):
                says = rule.says
            else:
                continue
            if line not in offences or len(name) > len(offences[line][0]):
                offences[line] = (name, says)
        found.extend(
            f"{rel}:{line}: imports {n}: {says}" for line, (n, says) in sorted(offences.items())
        )
    return found


def check_docstrings(root: Path, folders: tuple[str, ...] = DOCUMENTED_FOLDERS) -> list[str]:
    """Modules that do not open with a docstring saying what they are for."""
    found = []
    for path in source_files(root, folders):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if not (ast.get_docstring(tree) or "").strip():
            found.append(f"{path.relative_to(root)}:1: has no module docstring")
    return found


def check_sizes(root: Path, folders: tuple[str, ...] = SIZED_FOLDERS) -> list[str]:
    """Source modules longer than :data:`MAX_LINES` (the line named is the first one over)."""
    found = []
    for path in source_files(root, folders):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            rel = path.relative_to(root)
            found.append(f"{rel}:{MAX_LINES + 1}: {lines} lines, more than {MAX_LINES}")
    return found


def _is_hookspec(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name == "hookspec"


def check_hooks(root: Path, spec_file: str = HOOKSPECS) -> list[str]:
    """Hooks whose docstring lacks a summary, a ``:param x:`` per argument or a ``:return:``."""
    path = root / spec_file
    if not path.is_file():
        return [f"{spec_file}:1: the hook specifications are missing"]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    hooks = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and any(map(_is_hookspec, node.decorator_list))
    ]
    if not hooks:
        return [f"{spec_file}:1: no @hookspec function found"]
    found = []
    for hook in hooks:
        where = f"{spec_file}:{hook.lineno}: hook {hook.name}"
        doc = ast.get_docstring(hook) or ""
        if not doc.strip() or doc.lstrip().startswith(":"):
            found.append(f"{where} has no docstring saying what it is for")
            continue
        args = [a.arg for a in (*hook.args.posonlyargs, *hook.args.args, *hook.args.kwonlyargs)]
        found.extend(f"{where}: argument {a!r} has no ':param {a}:'" for a in args
                     if f":param {a}:" not in doc)  # fmt: skip
        if ":return:" not in doc and ":returns:" not in doc:
            found.append(f"{where}: its docstring has no ':return:'")
    return found


def check_packages(root: Path) -> list[str]:
    """Package folders missing from ``[tool.setuptools] packages``, and entries that are none.

    A folder holding modules without an ``__init__.py`` is reported too: it would not install.
    """
    dirs = package_dirs(root)
    listed = list(_setuptools(root).get("packages", []))
    found = []
    present = set()
    for folder in sorted(set(dirs.values())):
        for init in sorted((root / folder).rglob("__init__.py")):
            name = module_name(root, init, dirs)
            present.add(name)
            if name not in listed:
                found.append(
                    f"{init.relative_to(root)}:1: package {name} is not listed in "
                    "pyproject.toml [tool.setuptools] packages"
                )
        for path in source_files(root, (folder,)):
            if not (path.parent / "__init__.py").is_file():
                found.append(f"{path.relative_to(root)}:1: its folder has no __init__.py")
    lines = (root / "pyproject.toml").read_text(encoding="utf-8").splitlines()
    for name in listed:
        if name not in present:
            line = next((i for i, s in enumerate(lines, 1) if f'"{name}"' in s), 1)
            found.append(f"pyproject.toml:{line}: lists {name}, which is no package folder")
    return list(dict.fromkeys(found))
