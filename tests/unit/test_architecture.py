"""The layout of tasks/ and flows/ (docs/architecture.md), checked from the source alone.

Stages depend one way: a module may import from its own package and from the packages
before it in STAGES, never from one after it. No import cycle between modules (imports
inside functions and under TYPE_CHECKING count: they hide a cycle, they do not break it).
No module imports another's private (`_name`) name. Prefect tasks are made in one module
and flows only under flows/. No new module directly under tasks/. No function longer than
MAX_LINES, but those LONG_ALLOWED names, each with why.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

# The stages of a run, in order, and the packages every stage may use before them.
STAGES = ("settings", "adapters", "reading", "checking", "analysing", "editions",
          "presenting", "returns", "store", "delivering", "drafting", "run")
TASK_MODULE = "tasks.steps"  # the one module that makes Prefect tasks
FLAT_ALLOWED = {"__init__.py", "steps.py"}
# Lines of a function, its def line to its last (issue 25: "functions over 60 lines"), and
# the functions allowed more: qualified name -> why (docs/architecture.md says it too).
MAX_LINES = 60
LONG_ALLOWED: dict[str, str] = {}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, ast.Module]:
    found = {}
    for top in ("tasks", "flows"):
        for path in sorted((ROOT / top).rglob("*.py")):
            found[_module_name(path)] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


SOURCES = _sources()


def _package_of(module: str) -> str:
    """The package a module's relative imports start from: itself for a package's
    __init__, else the package it is in."""
    return module if (ROOT / module.replace(".", "/") / "__init__.py").is_file() \
        else module.rpartition(".")[0]


def _imports(tree: ast.Module, package: str = "") -> Iterator[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every import, anywhere; a
    relative one (`from ..analysing import compare`) resolved from `package`, the
    importing module's package (ruff's TID252 refuses them in the code; found from outside:
    they slipped past these checks)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] \
                if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                yield module, alias.name, node.lineno


def _targets(module: str, name: str | None, known: dict[str, ast.Module]) -> list[str]:
    """Our modules an import statement depends on: `from tasks.x import y` is tasks.x.y when
    y is a module, else tasks.x."""
    if name is not None and f"{module}.{name}" in known:
        return [f"{module}.{name}"]
    return [module] if module in known else []


def _graph(sources: dict[str, ast.Module]) -> dict[str, set[str]]:
    return {mod: {t for m, n, _ in _imports(tree, _package_of(mod))
                  for t in _targets(m, n, sources) if t != mod}
            for mod, tree in sources.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _stage(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "tasks" or len(parts) < 3 or parts[1] not in STAGES:
        return None
    return STAGES.index(parts[1])


def private_imports(sources: dict[str, ast.Module]) -> list[str]:
    found = []
    for mod, tree in sources.items():
        aliases = {a.asname or a.name: f"{n.module}.{a.name}"
                   for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                   for a in n.names}
        for module, name, line in _imports(tree, _package_of(mod)):
            if name is not None and name.startswith("_") and not name.startswith("__") \
                    and module in sources and module != mod:
                found.append(f"{mod}:{line} imports {module}.{name}")
        for node in ast.walk(tree):  # `ingest._area` through a module imported by name
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.attr.startswith("_") and not node.attr.startswith("__") \
                    and aliases.get(node.value.id) in sources:
                found.append(f"{mod}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def prefect_outside(sources: dict[str, ast.Module]) -> list[str]:
    found = []
    for mod, tree in sources.items():
        for module, name, line in _imports(tree, _package_of(mod)):
            if module == "prefect" and name == "task" and mod != TASK_MODULE:
                found.append(f"{mod}:{line} imports prefect.task")
            if module == "prefect" and name == "flow" and not mod.startswith("flows."):
                found.append(f"{mod}:{line} imports prefect.flow")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "prefect" and node.attr in {"task", "flow"}:
                found.append(f"{mod}:{node.lineno} uses prefect.{node.attr}")
    return found


def later_stages(sources: dict[str, ast.Module]) -> list[str]:
    found = []
    for mod, tree in sources.items():
        here = _stage(mod)
        for module, name, line in (_imports(tree, _package_of(mod)) if here is not None
                                   else ()):
            for target in _targets(module, name, sources):
                there = _stage(target)
                if here is not None and there is not None and there > here:
                    found.append(f"{mod}:{line} imports {target} (a later stage)")
    return sorted(set(found))


class _Lengths(ast.NodeVisitor):
    """Every function's lines, its def line to its last, by qualified name (methods and
    nested functions too, and those under an `if` or a `try`)."""

    def __init__(self, module: str) -> None:
        self.names, self.lines = [module], dict[str, int]()

    def _named(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.names.append(node.name)
        if not isinstance(node, ast.ClassDef):
            self.lines[".".join(self.names)] = (node.end_lineno or node.lineno) - node.lineno + 1
        self.generic_visit(node)
        self.names.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _named


def long_functions(sources: dict[str, ast.Module]) -> dict[str, int]:
    """Functions of more than MAX_LINES lines: qualified name -> lines."""
    found = {}
    for mod, tree in sources.items():
        lengths = _Lengths(mod)
        lengths.visit(tree)
        found.update({n: lines for n, lines in lengths.lines.items() if lines > MAX_LINES})
    return found


def test_no_import_cycle() -> None:
    assert _cycles(_graph(SOURCES)) == []


def test_no_module_imports_another_modules_private_name() -> None:
    assert private_imports(SOURCES) == []


def test_prefect_tasks_in_one_module_and_flows_only_under_flows() -> None:
    assert prefect_outside(SOURCES) == []


def test_stages_depend_one_way() -> None:
    assert later_stages(SOURCES) == []


def test_every_module_under_tasks_is_in_a_stage_package() -> None:
    packages = {p.name for p in (ROOT / "tasks").iterdir() if (p / "__init__.py").is_file()}
    assert packages <= set(STAGES), f"add {sorted(packages - set(STAGES))} to STAGES in order"
    flat = {p.name for p in (ROOT / "tasks").glob("*.py")}
    assert flat <= FLAT_ALLOWED, f"put {sorted(flat - FLAT_ALLOWED)} in its stage's package"


def test_no_function_is_over_60_lines_but_those_allowed_and_said_why() -> None:
    """Split where a reader would name the parts; the few allowed are documented."""
    long = long_functions(SOURCES)
    assert {n: lines for n, lines in long.items() if n not in LONG_ALLOWED} == {}
    assert set(LONG_ALLOWED) <= set(long), "no longer long: take it off LONG_ALLOWED"
    assert all(why.strip() for why in LONG_ALLOWED.values())


def test_the_checks_find_what_they_look_for() -> None:
    """Each check against a small tree with the fault it is for."""
    bad = {
        "tasks.reading.a": ast.parse("from tasks.presenting.b import x, _y\n"),
        "tasks.presenting.b": ast.parse("from prefect import task\n"
                                        "def f():\n    from tasks.reading import a\n"),
        "flows.c": ast.parse("import tasks.reading.a as a\nfrom prefect import flow\n"),
    }
    relative = {"tasks.settings.p": ast.parse("from ..presenting.b import x\n"),
                "tasks.presenting.b": ast.parse("x = 1\n")}
    assert later_stages(relative) == [
        "tasks.settings.p:1 imports tasks.presenting.b (a later stage)"]
    assert _cycles(_graph(bad)) == [["tasks.presenting.b", "tasks.reading.a"]]
    assert private_imports(bad) == ["tasks.reading.a:1 imports tasks.presenting.b._y"]
    assert prefect_outside(bad) == ["tasks.presenting.b:1 imports prefect.task"]
    assert later_stages(bad) == ["tasks.reading.a:1 imports tasks.presenting.b (a later stage)"]
    def body(indent: int, lines: int) -> str:
        return "".join(f"{' ' * indent}x = {i}\n" for i in range(lines))

    long = ast.parse("@flow\ndef over(a,\n         b):\n" + body(4, MAX_LINES - 1)
                     + "def just():\n" + body(4, MAX_LINES - 1)
                     + "class C:\n    def method(self):\n" + body(8, MAX_LINES)
                     + "try:\n    pass\nexcept OSError:\n    def f():\n"
                     + "        def inner():\n" + body(12, MAX_LINES) + body(8, 1))
    assert long_functions({"flows.d": long}) == {
        "flows.d.over": MAX_LINES + 1, "flows.d.C.method": MAX_LINES + 1,
        "flows.d.f": MAX_LINES + 3, "flows.d.f.inner": MAX_LINES + 1}


# --- The tests' own layout (docs/architecture.md, "The tests") --------------------------------

KINDS = ("unit", "integration", "e2e")
# Directly in tests/unit/: the layout's own checks (this file) and tools/relayout.py's.
UNIT_TOP = {"test_architecture.py", "test_relayout.py"}


def misplaced_tests(tests: Path) -> list[str]:
    """Test files outside the three folders, a unit test in a folder named for no stage,
    and any module in the three that pytest would not collect as tests (`*_test.py`,
    `check_x.py`: pyproject's python_files is test_*.py alone)."""
    out = []
    for path in sorted(tests.rglob("*.py")):
        where = path.relative_to(tests)
        parts, name = where.parts, path.name
        if parts[0] not in KINDS:
            if name.startswith("test_") or name.endswith("_test.py"):
                out.append(f"{where}: not in {', '.join(KINDS)}")
        elif name != "__init__.py" and not name.startswith("test_"):
            out.append(f"{where}: not a test module's name (test_*.py)")
        elif parts[0] == "unit" and len(parts) == 2 and name not in UNIT_TOP | {"__init__.py"}:
            out.append(f"{where}: a unit test belongs in its stage's folder")
        elif parts[0] == "unit" and len(parts) > 2 and parts[1] not in STAGES:
            out.append(f"{where}: no stage is called {parts[1]}")
    return out


def test_every_test_is_unit_by_stage_integration_or_end_to_end() -> None:
    misplaced = misplaced_tests(ROOT / "tests")
    assert not misplaced, "\n".join(misplaced)
    for kind in KINDS:
        assert any((ROOT / "tests" / kind).rglob("test_*.py")), kind


def test_the_test_layout_checks_find_what_they_look_for(tmp_path: Path) -> None:
    for name in ("test_a.py", "b_test.py", "helpers.py", "unit/nowhere/test_b.py",
                 "unit/reading/test_c.py", "unit/reading/c_test.py", "e2e/test_d.py",
                 "unit/test_e.py", "unit/test_architecture.py", "integration/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert misplaced_tests(tmp_path) == [
        "b_test.py: not in unit, integration, e2e", "test_a.py: not in unit, integration, e2e",
        "unit/nowhere/test_b.py: no stage is called nowhere",
        "unit/reading/c_test.py: not a test module's name (test_*.py)",
        "unit/test_e.py: a unit test belongs in its stage's folder"]


def test_a_slow_test_in_unit_is_refused_however_it_is_marked() -> None:
    """Found from outside: a text search for `@pytest.mark.slow` missed `@mark.slow`,
    a parameter's marks and the engine's fixture; the session's collection hook reads the
    markers pytest gives each item (tests/conftest.py)."""
    from types import SimpleNamespace

    from tests.conftest import slow_unit_tests

    def item(path: str, slow: bool) -> SimpleNamespace:
        return SimpleNamespace(nodeid=path, path=ROOT / path,
                               get_closest_marker=lambda name: object() if slow else None)

    items = [item("tests/unit/reading/test_a.py::t", True),
             item("tests/unit/reading/test_b.py::t", False),
             item("tests/integration/test_c.py::t", True)]
    assert slow_unit_tests(items) == ["tests/unit/reading/test_a.py::t"]
