"""Scenarios for the disclosure property (docs/public-edition.md).

The test of "safe" is indistinguishability: whatever value from 1 to 5 a hidden figure
holds, every public output (the paper's HTML, its PDF's text, the emails to public
recipients, the public workbook's cells and bytes, the open-data CSV) is the same. A
scenario is a council's exports written as CSV files, run through the real ingest,
validation, history store, rules and editions, once for each value 1 to 5. `public_view`
stops after the pure stages, at what every public output is made from (the public
edition's figures and the context the templates see); `run` goes on to the outputs.
The properties: tests/unit/editions/test_disclosure.py over the pure stages, and
tests/integration/test_public_outputs.py over the rendered outputs.
"""


from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from bs4 import BeautifulSoup
from hypothesis import strategies as st
from pypdf import PdfReader

from tasks.delivering.notify import plan_notices
from tasks.presenting.context import build_context
from tasks.presenting.render import render_html
from tasks.presenting.spreadsheets import briefing_workbook, open_data_csv, read_cells
from tasks.run.analysis import Analysed, compare_with_history
from tasks.run.inputs import Inputs, validate_exports
from tasks.run.papers import Rendered, edition_figures, render_briefing
from tasks.settings.formatting import Edition
from tasks.settings.periods import shift
from tasks.store.history import MemoryHistoryStore
from tests.conftest import TODAY
from tests.factories import make_config

CYCLE = "2024-10"
GENERATED = datetime(2024, 11, 5, 9, 30).astimezone()
SMALL = (1, 2, 3, 4, 5)
# Hypothesis: the pure stages (public_view) see 300 scenarios when CI runs everything,
# drawn in SHARDS separate searches so that pytest-xdist spreads them over both cores, and
# 5 in `make check`; the rendered outputs (run) a sample of RENDERED scenarios.
EXAMPLES = 300 if os.environ.get("CI") else 5
SHARDS = 4 if os.environ.get("CI") else 1
RENDERED = 40 if os.environ.get("CI") else 3


@dataclass(frozen=True)
class Scenario:
    """One indicator's series of child counts, oldest first, ending at CYCLE; one of them
    (`hidden_at`) is the figure that takes each value 1 to 5.

    `kind`: count; percent (numerator and denominator exported); percent_den (value and
    denominator only: the numerator follows from them); rate (per 10,000, with numerator);
    rate_den (per 10,000 children, with the population alone); rate_pop (per 10,000, the
    rate alone, the population given once in indicators.yaml, as for a scorecard).
    `stored` holds earlier figures already in the history store (index -> count), so that
    a run revises them; with `vary_stored` the varying figure is the stored one. With
    `after`, it is a month after the cycle (read, checked, not used); with `split`, its row
    is in a second file with numerator and denominator, and in the first without them.
    `decimals` rounds percentages and rates as an export would (half up). With `twin`, the
    hidden figure is given again, for that many children, by a second file of the same
    standing (or, with `twin_same_file`, by another row of the same file): whether the two
    agree rests on the hidden value. With `priority_twin`, a second source of higher
    priority gives the hidden figure's value again, without numerator or denominator.
    """

    kind: str
    polarity: str
    target: float | None
    tolerance: float
    min_change: float
    consecutive: int
    counts: tuple[int | None, ...]
    denominators: tuple[float, ...]
    hidden_at: int
    stored: tuple[tuple[int, int], ...] = ()
    vary_stored: bool = False
    after: bool = False
    split: bool = False
    decimals: int | None = None
    twin: int | None = None
    twin_same_file: bool = False
    priority_twin: bool = False
    # deep_dives.yaml's entry for K1: "" none; "opened" one naming the cycle it opened,
    # with an action put in place; "open" one for whichever deep dive the rule opened.
    # The control indicator K2 always has one with an action, whose impact is published.
    dive: str = ""
    # The hidden figure is a team's (South's), left as `c` in the teams' export, while the
    # total keeps its own figure: North is the total less it.
    team_hidden: bool = False
    # A percentage whose complement is the hidden figure: the hidden_at period counts all
    # but v of its cases ("9 of 9 visited, less h").
    complement: bool = False

    @property
    def unit(self) -> str:
        return {"count": "count", "percent": "percent", "percent_den": "percent",
                "rate": "rate_per_10k", "rate_den": "rate_per_10k",
                "rate_pop": "rate_per_10k"}[self.kind]

    def figure(self, n: int | None, i: int) -> tuple[str, str, str]:
        """(value, numerator, denominator) cells of the export for n children."""
        if n is None:
            return "", "", ""
        d = self.denominators[i]
        if self.kind == "count":
            return str(n), "", ""
        per = 100.0 if self.kind.startswith("percent") else 10_000.0
        exact = per * n / d
        if self.decimals is None:
            value = f"{exact:.10g}"
        else:
            q = Decimal(1).scaleb(-self.decimals)
            value = str(Decimal(repr(exact)).quantize(q, rounding=ROUND_HALF_UP))
        if self.kind == "rate_pop":
            return value, "", ""
        return value, ("" if self.kind.endswith("_den") else str(n)), f"{d:g}"


def write_inputs(s: Scenario, v: int, folder: Path) -> tuple[Path, Path, MemoryHistoryStore]:
    """Config and exports for the scenario with the hidden figure set to v; a store holding
    the earlier cycle's figures."""
    n = len(s.counts)
    counts = list(s.counts)
    if not (s.vary_stored or s.after or s.team_hidden):
        counts[s.hidden_at] = int(s.denominators[s.hidden_at]) - v if s.complement else v
    ind: dict[str, Any] = {"code": "K1", "title": "Children in the measure",
                           "unit": s.unit, "polarity": s.polarity, "target": s.target,
                           "tolerance": s.tolerance, "min_change": s.min_change}
    if s.kind == "rate_pop":
        ind["population"] = s.denominators[0]
    control = {"code": "K2", "title": "A steady measure", "unit": "percent",
               "polarity": "higher_is_better", "target": 80.0, "owner": "o2"}
    cfg = make_config([ind, control], consecutive=s.consecutive,
                      recipients=[{"name": "Committee Clerk", "email": "clerk@example.gov.uk"},
                                  {"name": "Director", "email": "dcs@example.gov.uk",
                                   "edition": "restricted"}])
    config = folder / "config"
    config.mkdir()
    dump = cfg.model_dump(mode="json")
    (config / "indicators.yaml").write_text(yaml.safe_dump(dump["indicators"]))
    (config / "owners.yaml").write_text(yaml.safe_dump(dump["owners"]))
    (config / "briefing.yaml").write_text(yaml.safe_dump(dump["briefing"]))
    exports = folder / "exports"
    exports.mkdir()
    header = "indicator,period,value,numerator,denominator"
    lines, second = [header], [header]
    for i, c in enumerate(counts):
        period = shift(CYCLE, i - n + 1)
        value, num, den = s.figure(c, i)
        if s.split and i == s.hidden_at:
            second.append(",".join(["K1", period, value, num, den]))
            num = den = ""
        lines.append(",".join(["K1", period, value, num, den]))
        lines.append(f"K2,{period},{80 + (i % 3)},{80 + (i % 3)},100")
    if s.after:
        lines.append(",".join(["K1", shift(CYCLE, 1), *s.figure(v, s.hidden_at)]))
    if s.twin is not None:
        row = ",".join(["K1", shift(CYCLE, s.hidden_at - n + 1), *s.figure(s.twin, s.hidden_at)])
        (lines if s.twin_same_file else second).append(row)
    sources: list[dict[str, Any]] = []
    if s.priority_twin:
        second.append(",".join(["K1", shift(CYCLE, s.hidden_at - n + 1),
                                s.figure(v, s.hidden_at)[0], "", ""]))
        sources.append({"name": "A scorecard that wins", "files": "second.csv",
                        "layout": "long", "priority": 10})
    (exports / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if len(second) > 1:
        (exports / "second.csv").write_text("\n".join(second) + "\n", encoding="utf-8")
    (config / "deep_dives.yaml").write_text(yaml.safe_dump(deep_dives(s, n)),
                                            encoding="utf-8")
    # Each period's figures by team: K1's two halves (so at the hidden figure each team is
    # about 0 to 5 children), K2's two teams always published.
    sources.append({"name": "Teams", "files": "teams.csv", "layout": "long",
                    "breakdowns": ["team"]})
    (config / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}),
                                         encoding="utf-8")
    teams = ["indicator,period,team,value,numerator,denominator"]
    for i, c in enumerate(counts):
        period = shift(CYCLE, i - n + 1)
        teams += [f"K2,{period},North,80,40,50",
                  f"K2,{period},South,{100 * (40 + i % 3) / 50:g},{40 + i % 3},50"]
        if s.team_hidden and i == s.hidden_at and c is not None:
            (_, _, d_n), (_, _, d_s) = team_split(s, c, i)
            teams += [",".join(["K1", period, "North", *team_figure(s, c - v, d_n)]),
                      ",".join(["K1", period, "South", "c", "", f"{d_s:g}"
                                if s.kind != "count" else ""])]
        elif c is not None:
            teams += [",".join(["K1", period, team, *team_figure(s, part, d)])
                      for team, part, d in team_split(s, c, i)]
    (exports / "teams.csv").write_text("\n".join(teams) + "\n", encoding="utf-8")
    store = MemoryHistoryStore()
    if s.stored:
        rows = []
        for i, c in s.stored:
            c = v if s.vary_stored and i == s.hidden_at else c
            value, num, den = s.figure(c, i)
            rows.append({"indicator": "K1", "period": shift(CYCLE, i - n + 1),
                         "value": float(value), "numerator": float(num) if num else math.nan,
                         "denominator": float(den) if den else math.nan})
        store.commit_cycle("998", shift(CYCLE, -1), pd.DataFrame(rows),
                           pd.DataFrame(), ["earlier.csv"])
    return config, exports, store


def team_split(s: Scenario, c: int, i: int) -> list[tuple[str, int, float]]:
    """(team, children, denominator): two halves of a period's count and denominator."""
    d = s.denominators[i]
    half = float(int(d) // 2)
    return [("North", c // 2, half), ("South", c - c // 2, d - half)]


def team_figure(s: Scenario, n: int, d: float) -> tuple[str, str, str]:
    """A team's (value, numerator, denominator) cells, as the scenario's export writes them."""
    if s.kind == "count":
        return str(n), "", ""
    per = 100.0 if s.kind.startswith("percent") else 10_000.0
    value = f"{per * n / d:.10g}" if d else ""
    if s.kind == "rate_pop":
        return value, "", ""  # a scorecard's rate by area, alone
    return value, ("" if s.kind.endswith("_den") else str(n)), f"{d:g}"


def deep_dives(s: Scenario, n: int) -> list[dict[str, Any]]:
    """deep_dives.yaml for a scenario: K2's always, K1's as `s.dive` says."""
    first = shift(CYCLE, -min(n - 1, 6))
    done = f"{shift(CYCLE, -min(n - 1, 3))}-10"
    action = {"description": "Weekly review", "owner": "o1", "due": f"{first}-20",
              "done": done}
    out: list[dict[str, Any]] = [{"indicator": "K2", "opened": first, "actions": [action]}]
    if s.dive == "opened":
        out.append({"indicator": "K1", "opened": first, "findings": "Short-staffed.",
                    "actions": [action, {**action, "done": None, "due": f"{first}-25"}]})
    elif s.dive == "open":
        out.append({"indicator": "K1", "findings": "Short-staffed.", "actions": [action]})
    return out


@dataclass
class Outputs:
    html: str
    emails: list[tuple[str, str, str]]  # (subject, text, html) to public recipients
    inputs: Inputs
    analysed: Analysed
    rendered: Rendered
    xlsx: bytes = b""  # the public workbook
    csv: bytes = b""  # the public indicator table as open data


def read_and_analysed(s: Scenario, v: int) -> tuple[Inputs, Analysed]:
    """The scenario's files with the hidden figure at v, read, checked and compared with
    its store: the stages both `public_view` and `run` begin with."""
    with tempfile.TemporaryDirectory() as tmp:
        config, exports, store = write_inputs(s, v, Path(tmp))
        inputs = validate_exports(config, exports, CYCLE, today=TODAY)
        assert inputs.ok, [p.as_line() for p in inputs.problems]
        return inputs, compare_with_history(inputs, store)


def run(s: Scenario, v: int, pdf: bool = False) -> Outputs:
    """The real pipeline from files to the public edition and its emails."""
    inputs, analysed = read_and_analysed(s, v)
    if pdf:  # the public edition's PDF, the only one compared
        rendered = render_briefing(inputs, analysed, GENERATED, [Edition.PUBLIC])
    else:  # HTML alone: the PDF is made from exactly this HTML
        figures = {e: edition_figures(inputs, analysed, e) for e in Edition}
        contexts = {e: build_context(inputs.config, figures[e], inputs.cycle,
                                     inputs.commentary) for e in Edition}
        rendered = Rendered({}, contexts, figures)
    html = render_html(rendered.contexts[Edition.PUBLIC])
    notices = plan_notices(inputs.config, rendered.contexts)
    emails = [(n.subject, n.text, n.html) for n in notices if n.edition is Edition.PUBLIC]
    public = rendered.figures[Edition.PUBLIC]  # the figures the paper was built from
    xlsx = briefing_workbook(inputs.config, public, CYCLE, GENERATED)
    return Outputs(html, emails, inputs, analysed, rendered, xlsx,
                   open_data_csv(inputs.config, public, CYCLE))


def assert_indistinguishable(s: Scenario, pdf: bool = False) -> list[Outputs]:
    outs = [run(s, v, pdf) for v in SMALL]
    first = outs[0]
    first_cells = read_cells(first.xlsx)
    for v, o in zip(SMALL[1:], outs[1:], strict=True):
        assert o.html == first.html, f"public HTML differs between 1 and {v}: " + _diff(
            first.html, o.html)
        assert o.emails == first.emails, f"public emails differ between 1 and {v}"
        assert read_cells(o.xlsx) == first_cells, \
            f"public workbook's cells differ between 1 and {v}"
        assert o.xlsx == first.xlsx, f"public workbook's bytes differ between 1 and {v}"
        assert o.csv == first.csv, f"open data differs between 1 and {v}: " + _diff_lines(
            first.csv.decode(), o.csv.decode())
    if pdf:
        texts = [pdf_text(o.rendered.public.pdf) for o in outs]
        assert all(t == texts[0] for t in texts), "public PDF text differs"
    return outs


def _diff_lines(a: str, b: str) -> str:
    import difflib

    return "\n".join(list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="",
                                               n=0))[:10])


def _diff(a: str, b: str) -> str:
    import difflib

    ta = BeautifulSoup(a, "html.parser").get_text("\n").split("\n")
    tb = BeautifulSoup(b, "html.parser").get_text("\n").split("\n")
    return "\n".join(list(difflib.unified_diff(ta, tb, lineterm="", n=1))[:30]) or "(markup)"


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def restricted_text(o: Outputs) -> str:
    return BeautifulSoup(render_html(o.rendered.contexts[Edition.RESTRICTED]),
                         "html.parser").get_text(" ")


def public_text(o: Outputs) -> str:
    return BeautifulSoup(o.html, "html.parser").get_text(" ")


# --- The property: any scenario, any hidden figure ------------------------------------------

KINDS = ["count", "percent", "percent_den", "rate", "rate_den", "rate_pop"]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    kind = draw(st.sampled_from(KINDS))
    n = draw(st.integers(min_value=3, max_value=28))
    count = st.one_of(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20, 40]), st.none())
    counts = draw(st.lists(count, min_size=n, max_size=n))
    hidden_at = draw(st.integers(min_value=0, max_value=n - 1))
    stored: tuple[tuple[int, int], ...] = ()
    vary_stored = False
    if draw(st.booleans()):
        at = draw(st.integers(min_value=0, max_value=n - 1))
        vary_stored = draw(st.booleans()) and at == hidden_at
        stored = ((at, draw(st.sampled_from([0, 3, 14, 30]))),)
        if vary_stored and counts[at] in SMALL:
            counts[at] = 14
    place = draw(st.sampled_from(["series", "series", "after", "split", "twin", "priority"]))
    twin = draw(st.sampled_from([2, 3, 5, 14])) if place == "twin" else None
    den = st.sampled_from([30000.0, 300000.0] if kind in ("rate_den", "rate_pop")
                          else [6.0, 8.0, 12.0, 25.0, 60.0, 150.0, 400.0])
    # Every denominator holds its period's count, the stored one, any hidden value 1 to 5
    # and the twin's.
    held = [max([c or 0, 5] + [c2 for i2, c2 in stored if i2 == i]
                + ([twin] if twin is not None and i == hidden_at else []))
            for i, c in enumerate(counts)]
    denominators = tuple(max(d, float(h)) for d, h in
                         zip(draw(st.lists(den, min_size=n, max_size=n)), held, strict=True))
    if kind == "rate_pop":  # one population for the authority, every period
        denominators = (denominators[0],) * n
    per = 1.0 if kind == "count" else 100.0 / 40 if kind.startswith("percent") else 1.0
    target = draw(st.one_of(st.none(), st.sampled_from([0.0, 2.0, 4.0, 5.0, 8.0, 30.0])
                            .map(lambda t: min(100.0, t * per) if per != 1.0 else t)))
    if place != "series":
        vary_stored = False
    complement = (kind in ("percent", "percent_den") and place == "series"
                  and not vary_stored and draw(st.integers(0, 3)) == 0)
    return Scenario(complement=complement, kind=kind, after=place == "after",
                    split=place == "split", twin=twin,
                    priority_twin=place == "priority",
                    twin_same_file=twin is not None and draw(st.booleans()),
                    dive=draw(st.sampled_from(["", "opened", "open"])),
                    decimals=draw(st.sampled_from([None, 0, 1])), polarity=draw(st.sampled_from(
        ["higher_is_better", "lower_is_better", "neutral"])), target=target,
        tolerance=draw(st.sampled_from([0.0, 1.0, 3.0])),
        min_change=draw(st.sampled_from([0.0, 0.5])),
        consecutive=draw(st.integers(min_value=1, max_value=3)), counts=tuple(counts),
        denominators=denominators, hidden_at=hidden_at, stored=stored,
        vary_stored=vary_stored)


# --- The cases the issue names, each shown to exercise what it claims -----------------------

def series(*counts: int | None) -> tuple[int | None, ...]:
    return counts


COUNT_WITH_TARGET = Scenario(  # shown as c, target "at most 4": red only at 5
    kind="count", polarity="lower_is_better", target=4.0, tolerance=0.0, min_change=0.0,
    consecutive=2, counts=series(7, 9, 8, 10, 9, 8, 0), denominators=(1.0,) * 7, hidden_at=6)
PERCENT_SMALL_NUMERATOR = Scenario(
    kind="percent", polarity="lower_is_better", target=40.0, tolerance=2.0, min_change=0.0,
    consecutive=2, counts=series(30, 31, 29, 33, 0), denominators=(100.0,) * 4 + (8.0,),
    hidden_at=4)
PERCENT_DENOMINATOR_ONLY = replace(PERCENT_SMALL_NUMERATOR, kind="percent_den")
REVISION_TO_SMALL = Scenario(
    kind="count", polarity="lower_is_better", target=None, tolerance=0.0, min_change=0.0,
    consecutive=2, counts=series(10, 12, 0, 11, 13), denominators=(1.0,) * 5, hidden_at=2,
    stored=((2, 14),))
REVISION_FROM_SMALL = Scenario(
    kind="count", polarity="lower_is_better", target=None, tolerance=0.0, min_change=0.0,
    consecutive=2, counts=series(10, 12, 14, 11, 13), denominators=(1.0,) * 5, hidden_at=2,
    stored=((2, 0),), vary_stored=True)
JUMP_TO_SMALL = Scenario(  # steady around 50, then a small count: "50 to 3"
    kind="count", polarity="higher_is_better", target=None, tolerance=0.0, min_change=0.0,
    consecutive=2, counts=series(50, 51, 49, 50, 52, 50, 51, 49, 50, 0),
    denominators=(1.0,) * 10, hidden_at=9)
DEEP_DIVE_SMALL_SERIES = Scenario(  # 12, 9, 7, c, 4: worse every month only if c is 5
    kind="count", polarity="higher_is_better", target=None, tolerance=0.0, min_change=0.0,
    consecutive=2, counts=series(12, 9, 7, 0, 4), denominators=(1.0,) * 5, hidden_at=3)
HIDDEN_IN_THE_MIDDLE = Scenario(  # SPC lines and 3/6/12 trends would average over it
    kind="count", polarity="lower_is_better", target=20.0, tolerance=0.0, min_change=0.0,
    consecutive=2, counts=series(*[14, 16, 15, 17, 15, 14, 16, 18, 15, 0, 16, 17, 15, 14,
                                   16]), denominators=(1.0,) * 15, hidden_at=9)

AFTER_THE_CYCLE = replace(  # a later month in the folder: read, checked, never stored
    PERCENT_SMALL_NUMERATOR, counts=series(10, 12, 11, 13, 9), denominators=(29.0,) * 5,
    decimals=0, after=True)
COUNTS_IN_THE_SECOND_FILE = replace(AFTER_THE_CYCLE, after=False, split=True, decimals=1)
ROUNDED_PERCENT = replace(PERCENT_DENOMINATOR_ONLY, denominators=(110.0,) * 5, decimals=0,
                          target=2.0, tolerance=0.0)
ROUNDED_RATE = Scenario(  # a rate per 10,000 over a population of 300,000, to 1 place
    kind="rate_den", polarity="lower_is_better", target=0.1, tolerance=0.0, min_change=0.0,
    consecutive=2, counts=series(20, 22, 21, 0), denominators=(300000.0,) * 4, hidden_at=3,
    decimals=1)

TWIN_OF_THE_SAME_STANDING = replace(  # agree when the hidden value is 3, else withheld
    COUNT_WITH_TARGET, twin=3)
TWIN_IN_THE_SAME_FILE = replace(PERCENT_SMALL_NUMERATOR, twin=4, twin_same_file=True)
PRIORITY_WITHOUT_COUNTS = replace(  # "2%" by priority over "2 of 100": still small
    PERCENT_SMALL_NUMERATOR, priority_twin=True, denominators=(100.0,) * 5, decimals=0)

CASES = {"count with a target": COUNT_WITH_TARGET,
         "the figure again in a second export of the same standing": TWIN_OF_THE_SAME_STANDING,
         "the figure twice in one export": TWIN_IN_THE_SAME_FILE,
         "a higher-priority source without counts": PRIORITY_WITHOUT_COUNTS,
         "a month after the cycle": AFTER_THE_CYCLE,
         "numerator and denominator in a second file": COUNTS_IN_THE_SECOND_FILE,
         "a rounded percentage with only a denominator": ROUNDED_PERCENT,
         "a rounded rate with only a population": ROUNDED_RATE,
         # Found from outside: 2.4 per 10,000 of 12,500 published is 3 children.
         "a rate alone, its population in indicators.yaml": replace(
             ROUNDED_RATE, kind="rate_pop", counts=series(20, 22, 21, 0),
             denominators=(12500.0,) * 4),
         "percentage with a small numerator": PERCENT_SMALL_NUMERATOR,
         "percentage with only a denominator": PERCENT_DENOMINATOR_ONLY,
         "revision from a stored value to a small one": REVISION_TO_SMALL,
         "revision from a small one to a large one": REVISION_FROM_SMALL,
         "jump warning": JUMP_TO_SMALL,
         "deep dive on a small-number series": DEEP_DIVE_SMALL_SERIES,
         "hidden point in the middle of a chart": HIDDEN_IN_THE_MIDDLE,
         "a deep dive the rule opens on small numbers": replace(DEEP_DIVE_SMALL_SERIES,
                                                                dive="open"),
         "a deep dive with an action's impact on small numbers": replace(
             HIDDEN_IN_THE_MIDDLE, dive="opened"),
         "a red count broken down by team, a hidden figure earlier": replace(
             HIDDEN_IN_THE_MIDDLE, target=10.0),
         "a team's count left as c, the total shown": replace(
             HIDDEN_IN_THE_MIDDLE, target=10.0, hidden_at=14, team_hidden=True),
         # Found from outside: "9 of 9 visited, less h", with "fewer than 10 cases".
         "a percentage whose complement is small": replace(
             PERCENT_SMALL_NUMERATOR, denominators=(100.0,) * 4 + (9.0,), complement=True),
         "a rounded percentage whose complement is small, numerator blank": replace(
             PERCENT_DENOMINATOR_ONLY, denominators=(100.0,) * 4 + (60.0,), complement=True,
             decimals=1),
         "a team's percentage left as c, the total shown": replace(
             PERCENT_SMALL_NUMERATOR, counts=series(30, 31, 29, 33, 35),
             denominators=(100.0,) * 5, target=30.0, team_hidden=True)}


def public_view(s: Scenario, v: int) -> tuple[str, str]:
    """The pure stages, from files to what every public output is made from: the public
    edition's figures (the workbook and open data are built from them) and the context
    the templates see (the paper and the emails), each as its repr (NaN equals NaN)."""
    inputs, analysed = read_and_analysed(s, v)
    figures = edition_figures(inputs, analysed, Edition.PUBLIC)
    context = build_context(inputs.config, figures, inputs.cycle, inputs.commentary)
    return repr(figures), repr(context)


def assert_same_public_view(s: Scenario) -> None:
    """The public figures and context are the same whatever value 1 to 5 the hidden figure
    holds."""
    first = public_view(s, SMALL[0])
    for v in SMALL[1:]:
        for what, a, b in zip(("figures", "context"), first, public_view(s, v), strict=True):
            assert b == a, f"the public {what} differs between 1 and {v}: " + _diff_lines(
                a.replace(", ", ",\n"), b.replace(", ", ",\n"))
