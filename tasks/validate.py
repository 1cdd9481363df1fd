"""Checks on canonical records against the catalogue and the cycle being reported.

Each check returns Problems; errors stop the run before anything is stored or written,
warnings go into the briefing's data-quality section.
"""

from __future__ import annotations

import pandas as pd

from tasks.config import Config, Unit
from tasks.ingest import SUPPRESSION_MARKERS
from tasks.periods import end_month, frequency_of, label, latest_of_kind
from tasks.problems import Problem, Severity

# A value may be rounded to one decimal place in the export; allow for that and a little more.
RATIO_TOLERANCE = 0.15


def _finding(sev: Severity, r: pd.Series, column: str | None, message: str,
             headers: dict[str, dict[str, str]]) -> Problem:
    """A finding on one record, naming the column by the heading people see in the file."""
    if column == "value" and isinstance(r.get("column"), str):
        column = str(r["column"])  # the value's own column: a month, in a wide scorecard
    elif column is not None:
        column = headers.get(str(r["file"]), {}).get(column, column)
    return Problem(sev, str(r["file"]), int(r["row"]), column, message, str(r["indicator"]))


def check_records(records: pd.DataFrame, config: Config, cycle: str, today_period: str,
                  headers: dict[str, dict[str, str]] | None = None) -> list[Problem]:
    """Row-level checks: catalogue, authority, periods, units, ratios, duplicates."""
    problems: list[Problem] = []
    hdr = headers or {}

    def _p(sev: Severity, r: pd.Series, column: str | None, message: str) -> Problem:
        return _finding(sev, r, column, message, hdr)

    catalogue = config.by_code()
    auth = config.briefing.authority
    cyc = end_month(cycle)
    now = end_month(today_period)
    for _, r in records.iterrows():
        ind = catalogue.get(str(r["indicator"]))
        if ind is None:
            problems.append(_p(Severity.WARNING, r, "indicator",
                               f"indicator code {r['indicator']!r} is not in the catalogue "
                               "(config/indicators.yaml); its rows are ignored"))
            continue
        a = r["authority"]
        if isinstance(a, str) and a.strip() not in {auth.code, auth.name}:
            problems.append(_p(Severity.ERROR, r, "authority",
                               f"export is for authority {a!r}, expected {auth.code} "
                               f"({auth.name})"))
        if frequency_of(str(r["period"])) is not ind.frequency:
            problems.append(_p(Severity.ERROR, r, "period",
                               f"{r['period']} is not a {ind.frequency.value} period, but "
                               f"{ind.code} is reported {ind.frequency.value}"))
            continue
        p = end_month(str(r["period"]))
        if p > now:
            problems.append(_p(Severity.ERROR, r, "period",
                               f"period {r['period']} is in the future"))
            continue
        if p > cyc:
            problems.append(_p(Severity.INFO, r, "period",
                               f"period {r['period']} is after the cycle being reported "
                               f"({cycle}); not used in this briefing"))
        v, num, den = r["value"], r["numerator"], r["denominator"]
        if pd.notna(v):
            if ind.unit is Unit.PERCENT and not 0 <= v <= 100:
                problems.append(_p(Severity.ERROR, r, "value",
                                   f"{v:g} is not a percentage: expected 0 to 100 for {ind.code}"))
            elif v < 0:
                problems.append(_p(Severity.ERROR, r, "value",
                                   f"{v:g} is negative: expected zero or more for a "
                                   f"{ind.unit.value.replace('_', ' ')}"))
            elif ind.unit is Unit.COUNT and not float(v).is_integer():
                problems.append(_p(Severity.ERROR, r, "value",
                                   f"{v:g} is not a whole number: expected a count"))
            if bool(r["percent_sign"]) and ind.unit is not Unit.PERCENT:
                problems.append(_p(Severity.ERROR, r, "value",
                                   f"written as a percentage but {ind.code} is measured "
                                   f"as a {ind.unit.value.replace('_', ' ')}"))
        elif latest_of_kind(ind.frequency, cycle) != r["period"]:
            pass  # a gap in history shows in the chart and breaks a run of declines
        elif isinstance(r.get("reason"), str):
            marker = str(r["reason"])
            problems.append(_p(Severity.WARNING, r, "value",
                               f"{ind.code} in {label(str(r['period']))} is published as "
                               f"{marker!r} ({SUPPRESSION_MARKERS.get(marker, 'not given')}); "
                               "treated as missing, never as zero"))
        else:
            problems.append(_p(Severity.WARNING, r, "value",
                               f"no value for {ind.code} in {label(str(r['period']))} "
                               "(blank cell)"))
        for name, x in (("numerator", num), ("denominator", den)):
            if pd.notna(x) and x < 0:
                problems.append(_p(Severity.ERROR, r, name, f"{x:g} is negative"))
        if pd.notna(num) and pd.notna(den):
            if num > den:
                problems.append(_p(Severity.ERROR, r, "numerator",
                                   f"numerator {num:g} is greater than denominator {den:g}"))
            elif ind.unit is Unit.PERCENT and den > 0 and pd.notna(v):
                implied = 100 * num / den
                if abs(implied - v) > RATIO_TOLERANCE:
                    problems.append(_p(Severity.WARNING, r, "value",
                                       f"value {v:g}% disagrees with numerator/denominator "
                                       f"{num:g}/{den:g} = {implied:.1f}%"))
    problems.extend(check_duplicates(records, hdr))
    return problems


def check_duplicates(records: pd.DataFrame,
                     headers: dict[str, dict[str, str]] | None = None) -> list[Problem]:
    """The same indicator and month twice: an error if they disagree, a warning if not."""
    problems: list[Problem] = []
    dup = records[records.duplicated(["indicator", "period"], keep=False)]
    for (code, period), grp in dup.groupby(["indicator", "period"], sort=True):
        first = grp.iloc[0]
        where = "; ".join(f"{f} row {r}" for f, r in zip(grp["file"], grp["row"], strict=True))
        values = grp["value"].round(9)
        if values.nunique(dropna=False) > 1:
            column = first["column"] if isinstance(first["column"], str) else "value"
            problems.append(Problem(Severity.ERROR, str(first["file"]), int(first["row"]), column,
                                    f"{code} {period} is given more than once with different "
                                    f"values ({where}); expected one value", str(code)))
        else:
            problems.append(Problem(Severity.WARNING, str(first["file"]), int(first["row"]),
                                    None, f"{code} {period} is given more than once with the "
                                    f"same value ({where}); one is used", str(code)))
    return problems


def check_coverage(records: pd.DataFrame, config: Config, cycle: str) -> list[Problem]:
    """Catalogue indicators with no record for their current period: what was not collected."""
    reported = set(zip(records["indicator"], records["period"], strict=True))
    out = []
    for ind in config.indicators:
        current = latest_of_kind(ind.frequency, cycle)
        if (ind.code, current) not in reported:
            out.append(Problem(Severity.WARNING, "(all exports)", None, None,
                               f"{ind.code} {ind.title}: no figure for {label(current)} in "
                               "any export; not collected this cycle", ind.code))
    return out


def usable_records(records: pd.DataFrame, config: Config, cycle: str) -> pd.DataFrame:
    """Catalogue records up to the cycle, one per indicator and month."""
    codes = {i.code for i in config.indicators}
    cyc = end_month(cycle)
    keep = records["indicator"].isin(codes) & records["period"].map(
        lambda p: end_month(p) <= cyc)
    use = records[keep].drop_duplicates(["indicator", "period"], keep="first")
    return use[["indicator", "period", "value", "numerator", "denominator"]].reset_index(drop=True)
