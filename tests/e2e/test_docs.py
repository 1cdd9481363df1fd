"""The README and docs/: one screen, links that lead somewhere, and every command they show
accepted by the real `briefing` parser and, where it finishes by itself, run as written."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.cli import main, parser
from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Run as written here: commands that need no engine, server or mail and end by themselves.
QUICK = {"init", "validate", "calendar", "schema"}
# Run as written under the Prefect engine (slow): a whole cycle's briefing.
ENGINE = {"run", "demo"}
# Shown, parsed, never run here: they serve until stopped, brief many authorities, or need
# a ledger with a stopped message (tests/e2e/test_server.py, tests/e2e/test_regional.py and
# tests/integration/test_mail.py run them).
PARSED_ONLY = {"serve", "regional", "ledger"}


def blocks(text: str) -> Iterator[tuple[str, list[str]]]:
    """Each fenced code block's language and lines."""
    for m in re.finditer(r"^ *```(\w*)\n(.*?)^ *```", text, re.M | re.S):
        yield m.group(1), m.group(2).splitlines()


def shell_lines(lines: list[str]) -> list[str]:
    """The commands in a shell block, continuations joined and comments dropped; in a
    block that shows a prompt (`$ `), only the prompted lines are commands."""
    prompted = any(line.lstrip().startswith("$ ") for line in lines)
    out: list[str] = []
    for raw in lines:
        line = re.sub(r"\s+#\s.*$", "", raw).rstrip()
        if prompted and not line.lstrip().startswith("$ "):
            continue
        line = line.strip().removeprefix("$ ")
        continued = raw.startswith(" ") and line.startswith(("[", "-"))
        if out and (out[-1].endswith("\\") or continued):
            out[-1] = out[-1].removesuffix("\\").rstrip() + " " + line
        elif line:
            out.append(line)
    return out


def commands(page: Path) -> list[str]:
    """Every `briefing` command in a page's shell blocks (not its output lines)."""
    found = []
    for lang, lines in blocks(page.read_text(encoding="utf-8")):
        if lang in ("", "sh", "bash", "shell"):
            for line in shell_lines(lines):
                words = line.split()
                if words[0] == "briefing" and len(words) > 1 and not words[1].endswith(":"):
                    found.append(line)
    return found


def inline_commands(page: Path) -> list[str]:
    """Every `briefing ...` written in a sentence (a code span, perhaps across lines) with
    an option and its value: a bare `briefing run` names the command, it is not one."""
    text = re.sub(r"^ *```.*?^ *```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    spans = (" ".join(m.split()) for m in re.findall(r"`(briefing [^`]+)`", text))
    return [s for s in spans if len(s.split()) >= 4 and not s.split()[1].endswith(":")]


def variants(synopsis: str) -> list[list[str]]:
    """A synopsis as argument lists: no optional `[...]` part, then every part with each
    of its `a|b` alternatives in turn."""
    groups = re.findall(r"\[([^\]]*)\]", synopsis)
    bare = shlex.split(re.sub(r"\s*\[[^\]]*\]", "", synopsis))[1:]
    alts = [shlex.split(g.replace("|", " | ")) for g in groups]
    most = max((len(" ".join(a).split(" | ")) for a in alts), default=1)
    out = [bare]
    for i in range(most):
        full = list(bare)
        for words in alts:
            options = " ".join(words).split(" | ")
            full += shlex.split(_alternative(options, i))
        out.append(full)
    return out


def _alternative(options: list[str], i: int) -> str:
    """The i-th of `--a x|y|z` (flag kept: `--a y`) or of `--a|--b`."""
    pick = options[min(i, len(options) - 1)]
    head = options[0].split()
    if i and len(head) == 2 and not pick.startswith("-"):
        return f"{head[0]} {pick}"
    return pick


def test_the_readme_is_one_screen() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200


def test_every_page_is_listed_in_the_index() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        if page.name != "index.md":
            assert f"]({page.name})" in index, page.name
            assert f"](docs/{page.name})" in readme, page.name


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^ *```.*?^ *```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", text, re.M)}


def test_every_link_leads_somewhere() -> None:
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # http(s) and mailto: not fetched here
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists() or (anchor and anchor not in anchors(dest)):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# Here\n\n```\n# not a heading\n```\n")
    assert anchors(page) == {"here"}
    assert slug("Setting up, and the tests") == "setting-up-and-the-tests"


def test_every_command_shown_is_accepted_by_the_parser() -> None:
    shown = [(p, c) for p in PAGES for c in commands(p) + inline_commands(p)]
    assert len(shown) >= 25  # the synopsis, the common commands, the walk-through
    subcommands = QUICK | ENGINE | PARSED_ONLY
    refused = []
    for page, command in shown:
        assert command.split()[1] in subcommands, command
        for argv in variants(command):
            try:
                parser().parse_args(argv)
            except SystemExit:
                refused.append(f"{page.name}: {' '.join(argv)}")
    assert refused == []


def test_a_synopsis_is_tried_whole_and_bare() -> None:
    got = variants("briefing run --cycle 2024-10 [--send|--no-send] [--edition both|public]")
    assert got == [["run", "--cycle", "2024-10"],
                   ["run", "--cycle", "2024-10", "--send", "--edition", "both"],
                   ["run", "--cycle", "2024-10", "--no-send", "--edition", "public"]]


def run_as_written(page: Path, kinds: set[str], where: Path,
                   monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run a page's concrete commands (no `[...]`) of the given kinds, in order, in a
    folder holding the checkout's `config/` and `demo/`: the failures, with exit codes."""
    for name in ("config", "demo"):
        if not (where / name).exists():
            (where / name).symlink_to(ROOT / name)
    monkeypatch.chdir(where)
    failed = []
    for command in commands(page):
        argv = shlex.split(command)[1:]
        if "[" in command or argv[0] not in kinds or "--real" in argv:
            continue
        code = main(argv)
        if code not in (0, 4):  # 4: done, a cell withheld and named (validate says so)
            failed.append(f"{page.name}: {command} -> exit {code}")
    return failed


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_commands_without_the_engine_run_as_written(page: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_as_written(page, QUICK, tmp_path, monkeypatch) == []


@pytest.mark.slow
def test_the_readmes_briefings_run_as_written(tmp_path: Path, prefect_harness: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_as_written(ROOT / "README.md", ENGINE, tmp_path, monkeypatch) == []
    assert (tmp_path / "outputs" / "999" / "2024-10" / "public" / "briefing.pdf").is_file()
