"""Writes a synthetic CIN census for the demo (seeded: the same bytes every run).

    .venv/bin/python scripts/make_demo_census.py [FOLDER]   (default demo/exports/cin)

One XML file, `cin_census.xml`, in DfE's schema for the collection year ending 31 March
2025, from the authority the demo invents (LEA 999), of 130 invented children under 18
(CIN0001 on), every date of which falls between 1 April and 31 October 2024: the demo
briefs the October 2024 cycle, whose twelve months to the month's end and the collection
year then see the same events. Its figures are the demo's October 2024 scorecard's, by
DfE's definitions:

- 165 referrals (CINreferralDate), 35 of them re-referrals: 35 children are referred again
  at least a month after their first episode closed, within twelve months of the first
  (FD03, 21.2%); 95 children are referred once.
- 72 assessments authorised (AssessmentAuthorisationDate), 55 within 45 working days of
  their start (working days after the start day up to and including the authorisation
  day, England's bank holidays; AS01, 76.4%).
- 30 initial child protection conferences (Section47 DateOfInitialCPC), 24 within 15
  working days of the section 47 enquiry's start (CP03, 80%); 26 lead to a plan that
  starts on the conference's day.

Planted, as a case-management system lets them in, and listed in `planted.json` beside the
census (kind of error -> sorted child ids): the inspectors found data "inaccurate because
of input errors" that gave leaders a false view. Four late assessments have their start
and authorisation dates keyed the wrong way round (DfE rule 8608), and two late
conferences their section 47 start and conference dates (rule 8615). DfE counts a
conference dated before its enquiry in the total but not as in time (and the briefing
reads an assessment so too), so AS01 and CP03 read as the scorecard's; but the records
cannot tell whether those were in time, so the briefing shows what the figure could be:
AS01 "Red, but could be Amber" (76.4% to 81.9%), CP03 "Amber, but could be Green" (80.0%
to 86.7%). Beside them, two ethnicity codes that are no code (rule 4220) and two unique
pupil numbers with two digits transposed (rule 1510, the check letter no longer matches).
Everything else is as a well-kept case system records it: DfE's rules for 2024-25 (Data to
Insight's validators) find the planted errors and nothing else.
`tests/unit/returns/test_demo_census.py` holds it to that.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tasks.settings.calendar import is_working_day  # noqa: E402

SEED = 2025
LEA = "999"  # the demo authority's DfE code (config/briefing.yaml)
FIRST, LAST = date(2024, 4, 1), date(2024, 10, 31)  # every date in the census
REFERENCE_DATE = date(2025, 3, 31)
# Born so that a child is under 18 until the collection year ends and born before any
# referral: no unborn children.
BORN = (date(2007, 4, 1), date(2024, 2, 28))
# 8770Q: a child born on or before this day is of school age and has a pupil number.
SCHOOL_AGE = date(2019, 8, 31)
CHILDREN_ONCE, CHILDREN_TWICE = 95, 35
# Of the late ones, those keyed the wrong way round (planted).
ASSESSMENTS, ASSESSMENTS_LATE, SWAPPED = 72, 17, 4
CONFERENCES, CONFERENCES_LATE, CONFERENCE_PLANS, SWAPPED_CONFERENCES = 30, 6, 26, 2
ASSESSMENT_DAYS, CONFERENCE_DAYS = 45, 15  # working days
# What follows each assessed referral: closed after the assessment (RC8, RC9), a child in
# need plan, a section 47 enquiry with no conference needed, a conference and a child
# protection plan, a conference and a child in need plan.
CLOSED, CIN_PLAN, S47_ONLY, CP_PLAN, CONFERENCE_ONLY = (
    "closed", "cin plan", "s47", "cp plan", "conference")
FIRST_OF_TWO = [CLOSED] * 14 + [CIN_PLAN] * 13 + [S47_ONLY] * 8  # all closed
SECOND_OF_TWO = [CIN_PLAN] * 3 + [CP_PLAN] * 3 + [None] * 29  # None: no further action
ONCE = ([CIN_PLAN] * 2 + [S47_ONLY] * 2 + [CP_PLAN] * 23 + [CONFERENCE_ONLY] * 4
        + [None] * 64)
ETHNIC = ["WBRI"] * 12 + ["WIRI", "WOTH", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
                          "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH"]
DISABILITIES = ["MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT"]
SOURCES = ["1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F", "4",
           "5A", "5B", "5C", "5D", "6", "7", "8", "9", "10"]
NEEDS = ["N1", "N1", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9"]
# Factors identified at assessment; not 18A or 19A (queried from 2024-25: 8945Q, 8950Q),
# and 21 (no factors) only alone, on an episode closed after the assessment (8873Q).
FACTORS = ["1B", "1C", "2B", "2C", "3A", "3B", "3C", "4A", "4B", "4C", "5A", "5B", "5C",
           "6A", "6B", "6C", "7A", "8B", "8C", "8D", "8E", "8F", "9A", "10A", "11A", "12A",
           "13A", "14A", "15A", "16A", "17A", "18B", "18C", "19B", "19C", "20", "22A",
           "23A", "24A"]
ABUSE = ["NEG", "NEG", "NEG", "EMO", "EMO", "PHY", "SAB", "MUL"]
UPN_LAS = ["301", "302", "303", "304", "305", "306"]
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
PLANTED_8608 = "assessment start and authorisation dates keyed the wrong way round (8608)"
PLANTED_8615 = ("section 47 enquiry start and conference dates keyed the wrong way round "
                "(8615)")
PLANTED_ETHNIC = "ethnicity code not valid (4220)"
PLANTED_UPN = "unique pupil number with two digits transposed (1510)"


@dataclass
class Plan:
    """A child protection plan: its start (the conference's day), end and reviews."""

    start: date
    end: date | None
    reviews: list[date]
    initial: str
    latest: str
    previous: int


@dataclass
class Episode:
    """One CINdetails: a referral and what followed it, in the order DfE's schema has."""

    referral: date
    source: str
    need: str | None
    nfa: bool
    closure: date | None = None
    reason: str | None = None
    assessment: tuple[date, date, list[str]] | None = None  # start, authorised, factors
    plans: list[tuple[date, date | None]] = field(default_factory=list)  # CIN plans
    s47: tuple[date, date, date | None] | None = None  # start, conference target, held
    cp_plan: Plan | None = None

    def last(self) -> date:
        days = [self.referral, *(d for d in (self.closure,) if d)]
        if self.assessment:
            days += self.assessment[:2]
        days += [d for plan in self.plans for d in plan if d]
        if self.s47:
            days += [d for d in self.s47 if d]
        if self.cp_plan:
            days += [self.cp_plan.start, *self.cp_plan.reviews]
            days += [self.cp_plan.end] if self.cp_plan.end else []
        return max(days)


@dataclass
class Child:
    id: str
    born: date
    sex: str
    ethnicity: str
    upn: str | None
    disabilities: list[str]
    episodes: list[Episode]


@dataclass(frozen=True)
class Pace:
    """How an assessed referral goes: what follows it, whether its episode is closed,
    whether its assessment or conference is late, and whether the assessment's dates are
    keyed the wrong way round (planted)."""

    kind: str
    closed: bool
    late_assessment: bool = False
    late_conference: bool = False
    swapped: bool = False
    swapped_conference: bool = False


def working_days_after(day: date, n: int) -> date:
    """The working day n working days after `day` (n=0: `day` itself, or the next
    working day if it is none)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def a_working_day(rng: random.Random, first: date, last: date) -> date:
    return working_days_after(first + timedelta(days=rng.randrange((last - first).days + 1)),
                              0)


def upn(rng: random.Random) -> str:
    """A unique pupil number of the right form: a check letter over the LA's code, the
    school's number, the year and a serial (DfE's weights 2 to 13, the sum modulo 23)."""
    digits = rng.choice(UPN_LAS) + "".join(str(rng.randrange(10)) for _ in range(9))
    return check_letter(digits) + digits


def check_letter(digits: str) -> str:
    total = sum(int(d) * weight for d, weight in zip(digits, range(2, 14), strict=True))
    return UPN_LETTERS[total % 23]


def factors(rng: random.Random, kind: str) -> list[str]:
    if kind == CLOSED and rng.random() < 0.3:
        return ["21"]
    return sorted(rng.sample(FACTORS, rng.randint(1, 3)), key=FACTORS.index)


def protection_plan(rng: random.Random, start: date) -> Plan:
    """Reviewed within three months of the conference, then within six; a third of the
    plans reviewed end at their review, when the child steps down to a child in need plan."""
    reviews = []
    review = working_days_after(start + timedelta(days=rng.randint(70, 88)), 0)
    while review <= LAST:
        reviews.append(review)
        review = working_days_after(review + timedelta(days=rng.randint(150, 175)), 0)
    end = reviews[-1] if reviews and rng.random() < 0.35 else None
    initial = rng.choice(ABUSE)
    latest = initial if rng.random() < 0.85 else rng.choice(ABUSE)
    return Plan(start, end, reviews, initial, latest, rng.choice([0, 0, 0, 0, 1, 2]))


def enquiry(rng: random.Random, episode: Episode, pace: Pace, assessed: date) -> None:
    """A section 47 enquiry begun during the assessment and, for a conference, what the
    conference decided."""
    start = working_days_after(assessed, rng.randrange(0, 6))
    target = working_days_after(start, CONFERENCE_DAYS)
    if pace.kind == S47_ONLY:
        episode.s47 = (start, target, None)
        return
    days = rng.randint(16, 25) if pace.late_conference else rng.randint(5, CONFERENCE_DAYS)
    held = working_days_after(start, days)
    episode.s47 = (held, target, start) if pace.swapped_conference else (start, target, held)
    if pace.kind == CP_PLAN:
        episode.cp_plan = protection_plan(rng, held)
        if episode.cp_plan.end is not None:
            episode.plans.append((episode.cp_plan.end, None))
    else:
        episode.plans.append((held, None))


def assessed_episode(rng: random.Random, pace: Pace, referral: date) -> Episode:
    episode = Episode(referral, rng.choice(SOURCES), rng.choice(NEEDS), False)
    start = working_days_after(referral, rng.randrange(0, 4))
    days = rng.randint(46, 70) if pace.late_assessment else rng.randint(8, ASSESSMENT_DAYS)
    authorised = working_days_after(start, days)
    if pace.kind in (S47_ONLY, CP_PLAN, CONFERENCE_ONLY):
        enquiry(rng, episode, pace, start)
    if pace.kind in (CIN_PLAN, S47_ONLY):
        episode.plans.append((authorised, None))
    keyed = (authorised, start) if pace.swapped else (start, authorised)
    episode.assessment = (*keyed, factors(rng, pace.kind))
    if pace.closed and pace.kind == CLOSED:
        episode.closure = working_days_after(authorised, rng.randrange(0, 8))
        episode.reason = rng.choice(["RC8", "RC9"])
    elif pace.closed:
        begun = episode.plans[0][0]
        ended = working_days_after(begun + timedelta(days=rng.randint(40, 100)), 0)
        episode.plans[0] = (begun, ended)
        episode.closure, episode.reason = ended, "RC7"
    return episode


def episodes_for(rng: random.Random, paces: list[Pace | None]) -> list[Episode]:
    """A child's referrals in order, each after the last closed (by a month at least), all
    within the census's dates: a referral whose episode would run past them is drawn again
    from earlier days, and a child whose referrals cannot all fit is drawn again."""
    for _ in range(100):
        episodes: list[Episode] = []
        earliest = FIRST
        for n, pace in enumerate(paces):
            latest = LAST if n == len(paces) - 1 else FIRST + timedelta(days=45)
            episode = one_episode(rng, pace, earliest, latest)
            if episode is None:
                break
            episodes.append(episode)
            if episode.closure is not None:
                earliest = episode.closure + timedelta(days=31)
        else:
            return episodes
    raise RuntimeError("a child's referrals do not fit in the census's dates")


def one_episode(rng: random.Random, pace: Pace | None, earliest: date, latest: date
                ) -> Episode | None:
    """A referral between `earliest` and `latest` whose episode ends by LAST, or None."""
    for _ in range(100):
        if latest < earliest:
            return None
        referral = a_working_day(rng, earliest, latest)
        episode = (Episode(referral, rng.choice(SOURCES), None, True) if pace is None
                   else assessed_episode(rng, pace, referral))
        if episode.last() <= LAST and referral <= LAST:
            return episode
        latest = referral - timedelta(days=1)
    return None


def paces(rng: random.Random) -> list[list[Pace | None]]:
    """Each child's referrals, in the order the children are numbered: 35 referred twice
    (the first episode assessed and closed), 95 once. Late assessments (the four keyed
    the wrong way round among them) fall on episodes with room after them; late
    conferences on any conference."""
    twice = [[Pace(first, True), None if second is None else Pace(second, False)]
             for first, second in zip(rng.sample(FIRST_OF_TWO, len(FIRST_OF_TWO)),
                                      rng.sample(SECOND_OF_TWO, len(SECOND_OF_TWO)),
                                      strict=True)]
    once: list[list[Pace | None]] = [
        [None if kind is None else Pace(kind, kind in (CIN_PLAN, S47_ONLY)
                                        and rng.random() < 0.5)]
        for kind in rng.sample(ONCE, len(ONCE))]
    children = [*twice, *once]
    check_design(children)
    roomy = [(c, 0) for c in children if c[0] is not None and (len(c) == 1 or c[1] is None)]
    late = rng.sample(roomy, ASSESSMENTS_LATE)
    for n, (child, i) in enumerate(late):
        pace = child[i]
        assert pace is not None
        child[i] = Pace(pace.kind, pace.closed, True, swapped=n < SWAPPED)
    conferences = [(c, i) for c in children for i, p in enumerate(c)
                   if p is not None and p.kind in (CP_PLAN, CONFERENCE_ONLY)]
    late = rng.sample(conferences, CONFERENCES_LATE)
    # The swapped ones lead to no plan: a plan starts on its conference's day (rule 2885).
    swap = [(c, i) for c, i in late if getattr(c[i], "kind", None) == CONFERENCE_ONLY]
    assert len(swap) >= SWAPPED_CONFERENCES, "too few late conferences without a plan"
    for child, i in late:
        pace = child[i]
        assert pace is not None
        child[i] = Pace(pace.kind, pace.closed, pace.late_assessment, True, pace.swapped,
                        swapped_conference=any(c is child and j == i
                                               for c, j in swap[:SWAPPED_CONFERENCES]))
    return rng.sample(children, len(children))


def check_design(children: list[list[Pace | None]]) -> None:
    """The kinds of referral add up to the scorecard's figures."""
    referrals = [p for c in children for p in c]
    assessed = [p for p in referrals if p is not None]
    held = [p for p in assessed if p.kind in (CP_PLAN, CONFERENCE_ONLY)]
    assert (sum(len(c) == 2 for c in children), sum(len(c) == 1 for c in children)) == (
        CHILDREN_TWICE, CHILDREN_ONCE)
    assert (len(assessed), len(held)) == (ASSESSMENTS, CONFERENCES)
    assert sum(p.kind == CP_PLAN for p in held) == CONFERENCE_PLANS


def make_child(rng: random.Random, number: int, referrals: list[Pace | None]) -> Child:
    born = BORN[0] + timedelta(days=rng.randrange((BORN[1] - BORN[0]).days + 1))
    disabled = rng.random() < 0.15
    return Child(
        id=f"CIN{number:04d}", born=born, sex=rng.choice("MF"), ethnicity=rng.choice(ETHNIC),
        upn=upn(rng) if born <= SCHOOL_AGE else None,
        disabilities=(sorted(rng.sample(DISABILITIES, rng.randint(1, 2)),
                             key=DISABILITIES.index) if disabled else ["NONE"]),
        episodes=episodes_for(rng, referrals))


def plant(rng: random.Random, children: list[Child]) -> dict[str, list[str]]:
    """The input errors besides the swapped assessment dates: two ethnicity codes missing
    a letter, and two pupil numbers with two adjacent different digits transposed."""
    planted = {PLANTED_8608: [c.id for c in children for e in c.episodes
                              if e.assessment and e.assessment[1] < e.assessment[0]],
               PLANTED_8615: [c.id for c in children for e in c.episodes
                              if e.s47 and e.s47[2] and e.s47[2] < e.s47[0]],
               PLANTED_ETHNIC: [], PLANTED_UPN: []}
    for child in rng.sample(children, 2):
        child.ethnicity = child.ethnicity[:3]
        planted[PLANTED_ETHNIC].append(child.id)
    pupils = [c for c in children if c.upn and c.id not in planted[PLANTED_ETHNIC]]
    for child in rng.sample(pupils, 2):
        assert child.upn is not None
        digits = child.upn[1:]
        i = next(i for i in range(3, 11) if digits[i] != digits[i + 1])
        child.upn = child.upn[0] + digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
        planted[PLANTED_UPN].append(child.id)
    return {kind: sorted(ids) for kind, ids in planted.items()}


def _add(parent: ET.Element, tag: str, text: str | date | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text.isoformat() if isinstance(text, date) else text
    return element


def _fields(parent: ET.Element, *pairs: tuple[str, str | date | None]) -> None:
    """Each field that has a value, in the order given (DfE's schema's); none for None."""
    for tag, value in pairs:
        if value is not None:
            _add(parent, tag, value)


def header(root: ET.Element) -> None:
    head = _add(root, "Header")
    _fields(_add(head, "CollectionDetails"), ("Collection", "CIN"), ("Year", "2025"),
            ("ReferenceDate", REFERENCE_DATE))
    _fields(_add(head, "Source"), ("SourceLevel", "L"), ("LEA", LEA),
            ("SoftwareCode", "Demo case system"), ("Release", "ver 1.0"), ("SerialNo", "1"),
            ("DateTime", "2025-04-22T09:00:00"))


def episode_xml(parent: ET.Element, episode: Episode) -> None:
    details = _add(parent, "CINdetails")
    _fields(details, ("CINreferralDate", episode.referral), ("ReferralSource", episode.source),
            ("PrimaryNeedCode", episode.need), ("CINclosureDate", episode.closure),
            ("ReasonForClosure", episode.reason),
            ("ReferralNFA", "true" if episode.nfa else "false"))
    if episode.assessment:
        started, authorised, found = episode.assessment
        assessment = _add(details, "Assessments")
        _fields(assessment, ("AssessmentActualStartDate", started),
                ("AssessmentAuthorisationDate", authorised))
        listed = _add(assessment, "FactorsIdentifiedAtAssessment")
        for factor in found:
            _add(listed, "AssessmentFactors", factor)
    for begun, ended in episode.plans:
        _fields(_add(details, "CINPlanDates"), ("CINPlanStartDate", begun),
                ("CINPlanEndDate", ended))
    if episode.s47:
        begun, target, held = episode.s47
        _fields(_add(details, "Section47"), ("S47ActualStartDate", begun),
                ("InitialCPCtarget", target), ("DateOfInitialCPC", held),
                ("ICPCnotRequired", "false" if held else "true"))
    if episode.cp_plan:
        plan = episode.cp_plan
        element = _add(details, "ChildProtectionPlans")
        _fields(element, ("CPPstartDate", plan.start), ("CPPendDate", plan.end),
                ("InitialCategoryOfAbuse", plan.initial),
                ("LatestCategoryOfAbuse", plan.latest),
                ("NumberOfPreviousCPP", str(plan.previous)))
        for review in plan.reviews:
            _add(_add(element, "Reviews"), "CPPreviewDate", review)


def child_xml(parent: ET.Element, child: Child) -> None:
    element = _add(parent, "Child")
    _fields(_add(element, "ChildIdentifiers"), ("LAchildID", child.id), ("UPN", child.upn),
            ("UPNunknown", None if child.upn else "UN1"), ("PersonBirthDate", child.born),
            ("Sex", child.sex))
    characteristics = _add(element, "ChildCharacteristics")
    _add(characteristics, "Ethnicity", child.ethnicity)
    disabilities = _add(characteristics, "Disabilities")
    for code in child.disabilities:
        _add(disabilities, "Disability", code)
    for episode in child.episodes:
        episode_xml(element, episode)


def census(children: list[Child]) -> bytes:
    root = ET.Element("Message")
    header(root)
    listed = _add(root, "Children")
    for child in children:
        child_xml(listed, child)
    ET.indent(root)
    written: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return written + b"\n"


def write(folder: Path) -> tuple[list[Child], dict[str, list[str]]]:
    rng = random.Random(SEED)
    children = [make_child(rng, n, referrals)
                for n, referrals in enumerate(paces(rng), start=1)]
    planted = plant(rng, children)
    pupils = [c.upn for c in children if c.upn]
    assert len(set(pupils)) == len(pupils), "two children share a pupil number"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cin_census.xml").write_bytes(census(children))
    (folder / "planted.json").write_text(json.dumps(planted, indent=2) + "\n",
                                         encoding="utf-8")
    return children, planted


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT / "demo" / "exports" / "cin"
    children, planted = write(folder)
    episodes = [e for c in children for e in c.episodes]
    assessments = sum(e.assessment is not None for e in episodes)
    conferences = sum(e.s47 is not None and e.s47[2] is not None for e in episodes)
    print(f"wrote {folder}: {len(episodes)} referrals, {assessments} assessments, "
          f"{conferences} conferences; {sum(map(len, planted.values()))} planted input errors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
