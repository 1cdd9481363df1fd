"""Rewrite references to `tasks` modules from the flat layout to the stage packages (issue 25).

`tasks/` was 45 modules side by side; each now lives in the package of the stage of a run it
belongs to. A branch started before the move runs this over the files it changed, after
`git rebase main`, so that its imports, mock targets and doc paths name the new homes:

    .venv/bin/python tools/relayout.py tasks/reading/ingest.py tests/test_x.py docs/x.md

With no arguments it rewrites every .py, .md, .yaml, .toml, .cfg and Makefile in the
repository. It is idempotent: a reference already in the new form is left as it is. What it
rewrites: `import tasks.x`, `from tasks.x import`, `from tasks import x`, any dotted `tasks.x`
(mock targets, entry points, strings, prose) and `tasks/x.py` paths. Python files it changed
have their import blocks re-sorted by ruff (rule I), when ruff is installed.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Old flat module -> (stage package, module name in it). Where a module belongs to two stages
# the choice is noted in docs/architecture.md ("Where the code lives").
MOVES: dict[str, tuple[str, str]] = {
    # settings: what a run is set up with (environment, YAML config, periods, calendar), and
    # how a unit's numbers are written and which editions there are (used by every stage)
    "settings": ("settings", "environment"),
    "yaml_text": ("settings", "yaml_text"),
    "config": ("settings", "config"),
    "periods": ("settings", "periods"),
    "calendar": ("settings", "calendar"),
    "formatting": ("settings", "formatting"),
    # adapters: side effects behind small interfaces
    "outputs": ("adapters", "outputs"),
    "lifeline": ("adapters", "lifeline"),
    "mail": ("adapters", "mail"),
    "m365": ("adapters", "m365"),
    # reading: the exports into canonical records
    "files": ("reading", "files"),
    "sources": ("reading", "sources"),
    "time_identifiers": ("reading", "time_identifiers"),
    "ingest": ("reading", "ingest"),
    "values": ("reading", "values"),
    "display": ("reading", "display"),
    "problems": ("reading", "problems"),
    "commentary": ("reading", "commentary"),
    "metadata": ("reading", "metadata"),
    "authorities": ("reading", "authorities"),
    "owner_returns": ("reading", "owner_returns"),
    "questions": ("reading", "questions"),
    # checking: the records against the catalogue and each other
    "validate": ("checking", "validate"),
    "reconcile": ("checking", "reconcile"),
    "reach": ("checking", "reach"),
    "plausibility": ("checking", "plausibility"),
    "precision": ("checking", "precision"),
    # analysing: the rules, SPC, benchmarks, breakdowns, deep dives
    "compare": ("analysing", "compare"),
    "spc": ("analysing", "spc"),
    "benchmarks": ("analysing", "benchmarks"),
    "breakdowns": ("analysing", "breakdowns"),
    "deep_dives": ("analysing", "deep_dives"),
    "results": ("analysing", "results"),
    # editions: what each edition may show
    "disclosure": ("editions", "disclosure"),
    "linked": ("editions", "linked"),
    # presenting: context, wording, charts, paper, workbook, packs, artifacts, regional overview
    "wording": ("presenting", "wording"),
    "context": ("presenting", "context"),
    "charts": ("presenting", "charts"),
    "render": ("presenting", "render"),
    "spreadsheets": ("presenting", "spreadsheets"),
    "packs": ("presenting", "packs"),
    "artifacts": ("presenting", "artifacts"),
    "regional": ("presenting", "regional"),
    "return_workbooks": ("presenting", "return_workbooks"),
    # store: the history of every cycle and the ledger
    "store": ("store", "history"),
    # delivering: who is told what, reminders, the run's summary
    "notify": ("delivering", "notify"),
    "reminders": ("delivering", "reminders"),
    "summary": ("delivering", "summary"),
    # drafting: `briefing init`, a first config from the exports (reads as every stage does)
    "draft": ("drafting", "draft"),
}

# tasks/pipeline.py was split by stage into tasks/run/ (and its Prefect tasks are all in
# tasks/steps.py): each name it held -> the module that holds it now.
_RUN = {
    "inputs": ("Inputs", "NoFiguresForCycle", "READ", "validate_exports"),
    "analysis": ("Analysed", "compare_with_history", "merge_parts"),
    "papers": ("PDF_NAME", "HTML_NAME", "OPEN_DATA_NAME", "Paper", "Rendered",
               "edition_figures", "with_child_returns", "with_source_errors", "dates_for",
               "render_briefing", "owners_workbooks", "deep_dive_packs"),
    "progress": ("Progress", "PROGRESS"),
    "publishing": ("SUMMARY_NAME", "store_and_publish", "publish"),
    "delivery": ("notify", "write_summary"),
    "cycle": ("Resources", "Steps", "CycleRun", "run_cycle"),
    "regional": ("NoFigures", "brief_authority"),
}
PIPELINE: dict[str, str] = {name: f"tasks.run.{module}" for module, names in _RUN.items()
                            for name in names}
PIPELINE["load_config"] = "tasks.settings.config"  # pipeline imported it; tests used it so

# Names that moved between modules after the move of modules (phase 2 of issue 25), to break
# import cycles and keep stages one way: module -> {name: the module that holds it now}.
SYMBOLS: dict[str, dict[str, str]] = {
    "tasks.adapters.mail": {n: "tasks.adapters.mailers"
                            for n in ("mailer_for", "mailer_from_env", "choose_mailer")},
    "tasks.presenting.regional": {"write_overview": "tasks.run.regional"},
    "tasks.analysing.breakdowns": {n: "tasks.reading.parts" for n in (
        "PART_COLUMNS", "WHOLE", "is_whole", "empty_parts", "part_fault")},
    "tasks.analysing.deep_dives": {n: "tasks.reading.deep_dive_entries"
                                   for n in ("Action", "DeepDiveEntry")},
    "tasks.editions.disclosure": {n: "tasks.checking.small_numbers" for n in (
        "SMALL", "CHILD_UNITS", "children", "is_small", "possible_values")},
}

PACKAGES = sorted({pkg for pkg, _ in MOVES.values()})
# Modules of each new package: `tasks.<pkg>.<module>` is already the new form.
_IN_PACKAGE: dict[str, set[str]] = {}
for _pkg, _mod in MOVES.values():
    _IN_PACKAGE.setdefault(_pkg, set()).add(_mod)

_OLD = "|".join(sorted(MOVES, key=len, reverse=True))
_DOTTED = re.compile(rf"(?<![\w.])tasks\.(?P<old>{_OLD})\b(?P<after>\.\w+| import \w+)?")
_PATH = re.compile(rf"(?<![\w/.])tasks/(?P<old>{_OLD})\.py\b")
_FROM_TASKS = re.compile(r"^(?P<indent>[ \t]*)from tasks import (?P<names>[^()\n#]+?)"
                         r"(?P<tail>[ \t]*#[^\n]*)?$", re.MULTILINE)
_FROM_PIPELINE = re.compile(r"^(?P<indent>[ \t]*)from tasks\.pipeline import "
                            r"(?P<names>\([^)]*\)|[^\n]+)", re.MULTILINE)
_PIPELINE_DOTTED = re.compile(r"(?<![\w.])tasks\.pipeline(?:\.(?P<name>\w+))?\b")
_PIPELINE_ATTR = re.compile(r"(?<![\w.])pipeline\.(?P<name>\w+)\b")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".cfg"}
SELF = {"relayout.py", "test_relayout.py"}  # they hold the old names on purpose
SKIP_DIRS = {".git", ".venv", ".venv-validators", "node_modules", "outputs", "build", "dist"}


def _already_new(old: str, after: str | None) -> bool:
    """`tasks.store.history` or `from tasks.store import history`: a package reference, not the
    old module (only where a package took its old module's name)."""
    if old not in _IN_PACKAGE or after is None:
        return False
    return after.rsplit(" ", 1)[-1].lstrip(".") in _IN_PACKAGE[old]


def _dotted(m: re.Match[str]) -> str:
    old, after = m["old"], m["after"]
    if _already_new(old, after):
        return m[0]
    pkg, mod = MOVES[old]
    return f"tasks.{pkg}.{mod}{after or ''}"


def _from_tasks(m: re.Match[str]) -> str:
    """`from tasks import a, b as c`: one `from tasks.<pkg> import` line per package."""
    groups: dict[str, list[str]] = {}
    for item in (n.strip() for n in m["names"].split(",")):
        if not item:
            continue
        name, _, alias = item.partition(" as ")
        name, alias = name.strip(), alias.strip()
        if name in MOVES:
            pkg, mod = MOVES[name]
            bound = alias or name
            text = mod if bound == mod else f"{mod} as {bound}"
            groups.setdefault(f"tasks.{pkg}", []).append(text)
        else:
            groups.setdefault("tasks", []).append(item)
    if list(groups) == ["tasks"]:
        return m[0]
    return _with_tail([f"{m['indent']}from {where} import {', '.join(names)}"
                       for where, names in groups.items()], m["tail"] or "")


def _with_tail(lines: list[str], tail: str) -> str:
    """The lines one statement became, its comment on the first (a `noqa` on each)."""
    if "noqa" in tail:
        return "\n".join(line + tail for line in lines)
    return "\n".join([lines[0] + tail, *lines[1:]])


def _import_lines(indent: str, names: list[str], tail: str = "") -> str:
    """`from <home> import <names>` lines, one per module that holds the names now."""
    groups: dict[str, list[str]] = {}
    for item in names:
        name = item.partition(" as ")[0].strip()
        groups.setdefault(PIPELINE.get(name, "tasks.pipeline"), []).append(item)
    return _with_tail([f"{indent}from {where} import {', '.join(group)}"
                       for where, group in groups.items()], tail)


def _from_pipeline(m: re.Match[str]) -> str:
    raw = m["names"].strip()
    tail = ""
    if not raw.startswith("(") and "#" in raw:
        raw, hash_, comment = raw.partition("#")
        tail = "  " + hash_ + comment
    names = [n.split("#")[0].strip() for n in raw.strip("()").replace("\n", ",").split(",")]
    return _import_lines(m["indent"], [n for n in names if n], tail)


def _pipeline_module(text: str) -> str:
    """`from tasks import pipeline` then `pipeline.X`: X by name, imported from its home."""
    used = sorted(set(_PIPELINE_ATTR.findall(text)))
    unknown = [n for n in used if n not in PIPELINE]
    if unknown:
        print(f"relayout: left alone, pipeline.{unknown[0]} has no new home", file=sys.stderr)
        return text
    text = _PIPELINE_ATTR.sub(lambda m: m["name"], text)

    def site(m: re.Match[str]) -> str:
        names = [n.strip() for n in m["names"].split(",")]
        rest = [n for n in names if n != "pipeline"]
        lines = [_import_lines(m["indent"], used)] if used else []
        if rest:
            lines.insert(0, f"{m['indent']}from tasks import {', '.join(rest)}")
        return _with_tail("\n".join(lines).split("\n"), m["tail"] or "")
    return _FROM_TASKS.sub(lambda m: site(m) if "pipeline" in
                           [n.strip() for n in m["names"].split(",")] else m[0], text)


def _pipeline_dotted(m: re.Match[str]) -> str:
    name = m["name"]
    if name is None:
        return "tasks.run"
    return f"{PIPELINE[name]}.{name}" if name in PIPELINE else m[0]


def _from_moved(module: str, text: str) -> str:
    """`from <module> import a, b`: each name from the module that holds it now."""
    homes = SYMBOLS[module]
    pattern = re.compile(rf"^(?P<indent>[ \t]*)from {re.escape(module)} import "
                         r"(?P<names>\([^)]*\)|[^\n]+)", re.MULTILINE)

    def site(m: re.Match[str]) -> str:
        raw, tail = m["names"].strip(), ""
        if not raw.startswith("(") and "#" in raw:
            raw, hash_, comment = raw.partition("#")
            tail = "  " + hash_ + comment
        names = [n.split("#")[0].strip()
                 for n in raw.strip("()").replace("\n", ",").split(",")]
        names = [n for n in names if n]
        if not any(n.partition(" as ")[0].strip() in homes for n in names):
            return m[0]
        groups: dict[str, list[str]] = {}
        for item in names:
            groups.setdefault(homes.get(item.partition(" as ")[0].strip(), module), []).append(item)
        return _with_tail([f"{m['indent']}from {where} import {', '.join(group)}"
                           for where, group in groups.items()], tail)
    text = pattern.sub(site, text)
    for name, home in homes.items():
        text = re.sub(rf"(?<![\w.]){re.escape(module)}\.{name}\b", f"{home}.{name}", text)
    return text


def rewrite(text: str) -> str:
    """The text with every flat `tasks` module reference in its new form."""
    if _FROM_TASKS.search(text) and any(
            "pipeline" in [n.strip() for n in m["names"].split(",")]
            for m in _FROM_TASKS.finditer(text)):
        text = _pipeline_module(text)
    text = _FROM_PIPELINE.sub(_from_pipeline, text)
    text = _PIPELINE_DOTTED.sub(_pipeline_dotted, text)
    text = text.replace("tasks/pipeline.py", "tasks/run/")
    text = _FROM_TASKS.sub(_from_tasks, text)
    text = _DOTTED.sub(_dotted, text)
    for module in SYMBOLS:
        text = _from_moved(module, text)
    return _PATH.sub(lambda m: "tasks/{}/{}.py".format(*MOVES[m["old"]]), text)


def _wanted(path: Path) -> bool:
    return path.suffix in SUFFIXES or path.name == "Makefile"


def default_files() -> list[Path]:
    """Every file of the kinds named above, outside environments and outputs."""
    found = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT).parts
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel[:-1]):
            continue
        if path.is_file() and _wanted(path) and path.name not in SELF:
            found.append(path)
    return sorted(found)


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] if argv else default_files()
    changed: list[Path] = []
    for path in files:
        if not path.is_file():
            print(f"relayout: {path}: no such file", file=sys.stderr)
            return 2
        before = path.read_text(encoding="utf-8")
        after = rewrite(before)
        if after != before:
            path.write_text(after, encoding="utf-8")
            changed.append(path)
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    python = [str(p) for p in changed if p.suffix == ".py"]
    if python and Path(ruff).exists():  # sorted, and a name pipeline gave that is not used
        subprocess.run([ruff, "check", "--quiet", "--select", "I,F401", "--fix", *python],
                       check=False)
    for path in changed:
        print(f"relayout: rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
