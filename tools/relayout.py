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
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".cfg"}
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
    tail = m["tail"] or ""
    lines = [f"{m['indent']}from {where} import {', '.join(names)}"
             for where, names in groups.items()]
    lines[0] += tail
    return "\n".join(lines)


def rewrite(text: str) -> str:
    """The text with every flat `tasks` module reference in its new form."""
    text = _FROM_TASKS.sub(_from_tasks, text)
    text = _DOTTED.sub(_dotted, text)
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
        if path.is_file() and _wanted(path) and path.name != "relayout.py":
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
    if python and Path(ruff).exists():
        subprocess.run([ruff, "check", "--quiet", "--select", "I", "--fix", *python], check=False)
    for path in changed:
        print(f"relayout: rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
