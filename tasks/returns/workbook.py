"""The restricted data-quality workbook for the performance team: each record failing a
DfE rule, by the council's own child id (never a name or any other field of the record),
with the rule's code and message and the indicators it affects, so it is fixed at source.

It is the one output that holds child ids: written only to the cycle's `restricted/`
folder, never attached to a message, logged or shown in Prefect.
"""

from __future__ import annotations

from datetime import datetime

from openpyxl import Workbook

from tasks.presenting.spreadsheets import Column, Table, sheet_about, sheet_table, workbook_bytes
from tasks.returns.quality import child_key, issues_affecting, known_children
from tasks.returns.reading import CHILD_ID, OUR_MESSAGES, ReturnRead
from tasks.returns.validators import NAMES, RuleIssue

QUALITY_BOOK = "data-quality.xlsx"
FAILING_HEADINGS = (
    Column("Child id", "child", width=16),
    Column("Return", "return", width=12),
    Column("Table", "table", width=14),
    Column("File", "file", width=28),
    Column("Row", "row", "int", 8),
    Column("Rule", "rule", width=8),
    Column("Message", "message", width=70),
    Column("Indicators affected", "indicators", width=24),
)
NOT_RUN_HEADINGS = (
    Column("Return", "return", width=12),
    Column("Rule", "rule", width=8),
    Column("Why it could not be run", "reason", width=90),
)


def failing_table(returns: list[ReturnRead]) -> Table:
    """One row per record failing a rule, in the order of return, rule and row."""
    rows: list[list[str | float | int | None]] = []
    for ret in returns:
        checks = ret.checks()
        affected: dict[tuple[str, str | None, int | None], list[str]] = {}
        known = known_children(ret)
        for code, computed in ret.figures.items():
            for issue in issues_affecting(computed, checks, ret.kind, known, ret.faults):
                affected.setdefault((issue.rule, issue.table, issue.record), []).append(code)
        messages = {**(checks.report.messages if checks.report else {}),
                    **OUR_MESSAGES}
        found = [*(checks.report.issues if checks.report else ()), *ret.faults]
        issues = sorted(found, key=lambda i: (i.rule.zfill(8), i.table or "", i.record or 0))
        for i in issues:
            rows.append([as_written(ret, i), NAMES[ret.kind], i.table or "", i.file or "", i.row,
                         i.rule, i.detail or messages.get(i.rule, ""),
                         ", ".join(sorted(set(affected.get((i.rule, i.table, i.record), []))))])
    return Table(FAILING_HEADINGS, rows, [None] * len(rows))


def as_written(ret: ReturnRead, issue: RuleIssue) -> str:
    """The council's id as its file has it (the validators upper-case theirs): the record
    they name, where its id is theirs (or they name none); else the table's id with their
    key; else theirs."""
    column = CHILD_ID[ret.kind]
    frame = (ret.tables or {}).get(issue.table or "")
    if frame is None or column not in frame:
        return issue.child or ""
    ids = frame[column].fillna("").astype(str).str.strip()
    key = child_key(issue.child, ret.kind)
    if issue.record and issue.record <= len(ids):
        written = ids.iloc[issue.record - 1]
        if written and (key is None or child_key(written, ret.kind) == key):
            return str(written)
    same = [i for i in ids if i and child_key(i, ret.kind) == key]
    return str(same[0]) if same else issue.child or ""


def not_run_table(returns: list[ReturnRead]) -> Table:
    rows: list[list[str | float | int | None]] = []
    for ret in returns:
        checks = ret.checks()
        if checks.report is None:
            rows.append([NAMES[ret.kind], "", checks.not_run or ""])
            continue
        rows += [[NAMES[ret.kind], nr.rule, nr.reason] for nr in checks.report.not_run]
    return Table(NOT_RUN_HEADINGS, rows, [None] * len(rows))


def quality_workbook(returns: list[ReturnRead], authority: str, cycle: str,
                     generated_at: datetime) -> bytes:
    """The workbook's bytes: failing records, rules not run, and what it is."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Failing records"
    sheet_table(ws, failing_table(returns))
    sheet_table(wb.create_sheet("Rules not run"), not_run_table(returns))
    about = wb.create_sheet("About")
    sheet_about(about, [
        ("What", "Records of the child-level returns that fail DfE's validation rules, for "
                 "the performance team to put right in the case-management system."),
        ("Restricted", "Holds the council's own child ids: never publish it, attach it to a "
                       "message or copy it out of the restricted folder."),
        ("Authority", authority), ("Cycle", cycle),
        ("Returns", "; ".join(f"{r.source} ({NAMES[r.kind]}, year ending March "
                              f"{r.collection_year})" for r in returns)),
        ("Rules", "DfE's rules as Data to Insight's validators implement them "
                  "(docs/returns.md)."),
    ])
    return workbook_bytes(wb, generated_at, "Data quality of the returns (restricted)")
