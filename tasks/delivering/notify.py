"""Who is told what: one message per owner with breaches, the briefing to its recipients.

Planning is pure (from the briefing context, so emails say no more than the paper);
delivery goes through a Mailer and the store's ledger, so a re-run of the same cycle
sends nothing that was already sent, and a failure is recorded and retried next run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from html import escape
from typing import Protocol, runtime_checkable
from urllib.parse import quote, unquote

from tasks.adapters.mail import Mailer, is_transient, ledger_name, mailbox, new_message
from tasks.presenting.context import BriefingContext, IndicatorView
from tasks.presenting.render import environment
from tasks.reading.owner_returns import return_name
from tasks.settings.config import Config
from tasks.settings.formatting import Edition
from tasks.store.history import HistoryStore, LedgerEntry

BREACH, BRIEFING, REMINDER, LATE = "breach", "briefing", "reminder", "late"
XLSX_SUBTYPE = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SENT, ALREADY_SENT, FAILED, UNCERTAIN = "sent", "already_sent", "failed", "uncertain"
# In the ledger only: in flight (a run that stops leaves it, read as uncertain), and asked
# to be sent again by the operator (`briefing ledger --resend ID`).
SENDING, RESEND = "sending", "resend"
# The recipient's edition was not written by this run (--edition): not sent, not recorded
# as sent, so the next run that writes that edition sends it.
WAITING = "waiting"


def status_words(status: str, transport: str) -> str:
    """A delivery's status as the console says it: a message written to the outbox (not
    sending) was not sent, and is not said to be."""
    words = status.replace("_", " ")
    if transport == "outbox":
        return words.replace("sent", "written to the outbox")
    return words


def tally(statuses: list[tuple[str, str]]) -> str:
    """(status, transport) pairs counted in words: "7 written to the outbox, 2 failed"."""
    counts: dict[str, int] = {}
    for status, transport in statuses:
        words = status_words(status, transport)
        counts[words] = counts.get(words, 0) + 1
    return ", ".join(f"{n} {w}" for w, n in sorted(counts.items())) or "none"


@dataclass(frozen=True)
class Notice:
    kind: str
    owner: str | None
    to: str
    to_name: str
    indicators: list[str]
    subject: str
    text: str
    html: str | None  # None: plain text only (reminders, notices)
    edition: Edition | None = Edition.PUBLIC  # the paper attached; None: no attachment
    spreadsheet: bool = False  # the edition's workbook goes beside its PDF

    def ledger_key(self, transport: str) -> str:
        """One ledger entry per message as planned: an owner's message is keyed by the
        owner and the indicators it covers as well as the address, so owners who share a
        mailbox each get theirs, and a re-run that finds other breaches sends them."""
        base = f"{transport}:{self.kind}"
        if self.owner is None:
            return f"{base}:{self.to.lower()}"
        owner = quote(self.owner, safe="")
        if len(owner) > 40:
            owner = owner[:31] + "~" + _digest(self.owner)[:8]
        covers = f":{_digest(','.join(self.indicators))[:12]}" if self.indicators else ""
        return f"{base}:{owner}:{self.to.lower()}{covers}"

    def legacy_key(self, transport: str) -> str:
        """The key before issue 24 (kind and address alone): a ledger written then is
        read for the first message to each address, as that run's was."""
        return f"{transport}:{self.kind}:{self.to.lower()}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ledger_id(entry: LedgerEntry) -> str:
    """A short id an operator can type (`briefing ledger --resend ID`)."""
    return _digest(f"{entry.authority}\n{entry.cycle}\n{entry.key}")[:8]


class MessagesNeedAttention(Exception):
    """The run produced its briefing, but some messages may not have arrived (a run stopped
    while sending them): never a success. Each line names one (kind, owner, indicators,
    address, ledger id); `result` is what the run would have returned (the flow's own
    type: tasks do not know it)."""

    def __init__(self, lines: list[str], result: object) -> None:
        super().__init__(lines, result)
        self.lines, self.result = lines, result

    def __str__(self) -> str:
        return (f"{len(self.lines)} message(s) need attention: a run stopped while sending "
                "them, so they may not have arrived")

    def __repr__(self) -> str:  # logs are read by staff without restricted access
        return f"MessagesNeedAttention({self})"


def attention_lines(deliveries: list[Delivery]) -> list[str]:
    """One line for each message an operator must resolve: whom it was for and what it
    covered (owner and indicator codes, never figures), and its ledger id."""
    return [f"{d.kind} to {d.to}" + (f" for {d.owner}" if d.owner else "")
            + (f" ({', '.join(d.indicators)})" if d.kind != BRIEFING and d.indicators else "")
            + f": {d.error}" for d in deliveries if d.status == UNCERTAIN]


@dataclass(frozen=True)
class Delivery:
    kind: str
    owner: str | None
    to: str
    indicators: list[str]
    status: str
    transport: str
    error: str = ""


def plan_notices(config: Config, contexts: dict[Edition, BriefingContext]) -> list[Notice]:
    """One breach message per owner (all their breached indicators), then the briefing.

    Owners are officers: they get the restricted edition, which shows their actual figures.
    Each recipient of the whole briefing gets the edition configured for them.
    """
    env = environment()
    ctx = contexts[Edition.RESTRICTED]
    by_owner: dict[str, list[IndicatorView]] = {}
    for ind in ctx.exceptions:
        by_owner.setdefault(ind.owner_id, []).append(ind)
    prefix = config.briefing.mail.subject_prefix
    notices: list[Notice] = []
    for owner_id, inds in by_owner.items():
        owner = config.owners[owner_id]
        n = len(inds)
        subject = (f"{prefix} {ctx.cycle_label}: {n} indicator{'s' if n > 1 else ''} "
                   f"you own need{'s' if n == 1 else ''} attention")
        fields = {"ctx": ctx, "owner": owner, "indicators": inds,
                  "workbook": return_name(ctx.authority_code, ctx.cycle, owner_id)}
        notices.append(Notice(
            BREACH, owner_id, owner.email, owner.name, [i.code for i in inds], subject,
            env.get_template("email_owner.txt.j2").render(**fields),
            env.get_template("email_owner.html.j2").render(**fields), Edition.RESTRICTED))
    for r in config.briefing.recipients:
        edition = Edition(r.edition)
        rctx = contexts[edition]
        fields2 = {"ctx": rctx, "recipient": r}
        notices.append(Notice(
            BRIEFING, None, r.email, r.name, [i.code for i in rctx.exceptions],
            f"{prefix} {rctx.cycle_label}: {rctx.committee}",
            env.get_template("email_briefing.txt.j2").render(**fields2),
            env.get_template("email_briefing.html.j2").render(**fields2), edition,
            r.spreadsheet))
    return notices


def _compose(notice: Notice, config: Config, pdf: bytes | None = None,
             pdf_name: str = "", sheet: tuple[bytes, str] | None = None,
             packs: list[tuple[bytes, str]] | None = None) -> EmailMessage:
    """The message for one notice. Addresses go in as parts, never as formatted text, so
    folding a long display name with a comma cannot turn it into two recipients. `sheet`
    (bytes, filename) is the edition's workbook, for recipients who asked for it."""
    mail = config.briefing.mail
    msg = new_message(mailbox(mail.sender, config.briefing.authority.name),
                      mailbox(notice.to, notice.to_name), notice.subject)
    if mail.reply_to:
        msg["Reply-To"] = mailbox(mail.reply_to)
    msg["X-Briefing-Kind"] = notice.kind
    msg.set_content(notice.text)
    if notice.html is not None:
        msg.add_alternative(notice.html, subtype="html")
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    if sheet is not None:
        msg.add_attachment(sheet[0], maintype="application", subtype=XLSX_SUBTYPE,
                           filename=sheet[1])
    for data, name in packs or []:  # an owner's deep-dive packs and return workbook
        # (restricted, as is their paper)
        msg.add_attachment(data, maintype="application", filename=name,
                           subtype=XLSX_SUBTYPE if name.endswith(".xlsx") else "pdf")
    return msg


def build_message(notice: Notice, config: Config, pdf: bytes | None = None,
                  pdf_name: str = "", sheet: tuple[bytes, str] | None = None,
                  packs: list[tuple[bytes, str]] | None = None) -> EmailMessage:
    """The message for one notice (`_compose`), within the size one email may be
    (limits.email_mib, as sent: attachments base64-encoded). Over it, the message goes
    without its attachments, saying which they were, why, and where they are; if its own
    text is still over (an owner with hundreds of breaches), a short summary naming the
    indicators. Never refused: a notice of breaches must reach its owner. (1,000
    indicators once sent one owner 17 MB.)"""
    msg = _compose(notice, config, pdf, pdf_name, sheet=sheet, packs=packs)
    limit_mib = config.briefing.limits.email_mib
    limit = round(limit_mib * 2**20)
    size = len(msg.as_bytes())
    if size <= limit:
        return msg
    names = [n for n in (pdf_name if pdf is not None else "", sheet[1] if sheet else "",
                         *(name for _, name in packs or [])) if n]
    contact = config.briefing.contact
    why = (f"This message would be {size / 2**20:.1f} MiB with its attachments "
           f"({', '.join(names) or 'none'}), more than the {limit_mib:g} MiB one email may be "
           "(limits.email_mib in briefing.yaml), so they are not attached: they are in this "
           f"cycle's folder of the briefing's outputs, and {contact.name} ({contact.email}) "
           "can send them.")
    html = (None if notice.html is None else
            notice.html.replace("</body>", f"<p>{escape(why)}</p>\n</body>", 1))
    smaller = _compose(replace(notice, text=f"{notice.text}\n\n{why}\n", html=html), config)
    if len(smaller.as_bytes()) <= limit:
        return smaller
    codes = ", ".join(notice.indicators)
    summary = (f"{notice.subject}.\n\nIndicators ({len(notice.indicators)}): {codes}.\n\n"
               f"This message in full would be {size / 2**20:.1f} MiB, more than the "
               f"{limit_mib:g} MiB one email may be (limits.email_mib in briefing.yaml): the "
               f"briefing's paper says what each indicator needs, and {contact.name} "
               f"({contact.email}) can send it.\n")
    return _compose(replace(notice, text=summary, html=None), config)


def allowed_address(address: str, allowed_domains: list[str]) -> bool:
    """Whether mail may go to `address`: `mail.allowed_domains` (empty: anywhere). Every
    outgoing message is checked by this, the failure alert too."""
    allowed = [d.lower() for d in allowed_domains]
    return not allowed or address.rsplit("@", 1)[-1].lower() in allowed


@runtime_checkable
class Witness(Protocol):
    """A mailer that can tell whether a message left (the outbox: its file is there)."""

    def delivered(self, message_id: str) -> bool: ...


@dataclass
class _Delivering:
    """What every message of one `deliver` shares, and the circuit: once the server is
    down after retries, the rest wait for the next run."""

    config: Config
    pdfs: dict[Edition, tuple[bytes, str]]
    mailer: Mailer
    store: HistoryStore
    cycle: str
    resend: bool
    sheets: dict[Edition, tuple[bytes, str]]
    packs: dict[str, list[tuple[bytes, str]]]
    unreachable: str = ""

    @property
    def authority(self) -> str:
        return self.config.briefing.authority.code


def deliver(notices: list[Notice], config: Config, pdfs: dict[Edition, tuple[bytes, str]],
            mailer: Mailer, store: HistoryStore, cycle: str,
            resend: bool = False,
            sheets: dict[Edition, tuple[bytes, str]] | None = None,
            packs: dict[str, list[tuple[bytes, str]]] | None = None,
            kinds: frozenset[str] = frozenset({BREACH, BRIEFING})) -> list[Delivery]:
    """Send each notice at most once per cycle, recording each in the ledger. Real mail
    (SMTP, SMTP with OAuth, Graph) shares one ledger name, so changing transport mid-cycle
    sends nothing twice; the outbox and memory keep their own.

    A message is `sent` only once the server accepted it. One left `sending` by a run that
    stopped mid-send becomes `uncertain`: sent again if the outbox shows it was not written,
    else left for the operator (`briefing ledger`), never counted a success. `packs` (owner
    id -> deep-dive packs and their return workbook) go with that owner's message only. A
    notice whose edition is not among `pdfs` (not written by this run) waits: nobody
    receives an edition other than their own.
    A message of `kinds` (the monthly run's, or the reminders') that an earlier run left
    uncertain and this one no longer plans is returned uncertain too.
    """
    run = _Delivering(config, pdfs, mailer, store, cycle, resend, sheets or {}, packs or {})
    legacy_read: set[str] = set()
    planned: set[str] = set()
    out = []
    for n in notices:
        key = n.ledger_key(ledger_name(mailer))
        prior = store.ledger_get(run.authority, cycle, key)
        legacy = n.legacy_key(ledger_name(mailer))
        if prior is None and n.owner is not None and legacy not in legacy_read:
            prior = store.ledger_get(run.authority, cycle, legacy)  # a ledger from before
        legacy_read.add(legacy)
        out.append(_deliver_one(run, n, key, prior))
        planned.add(key)
    return out + _no_longer_planned(run, planned | legacy_read, kinds)


def _no_longer_planned(run: _Delivering, planned: set[str],
                       kinds: frozenset[str]) -> list[Delivery]:
    """Messages an earlier run of this cycle was stopped while sending, that this run no
    longer plans (an owner's breaches or indicators changed since): still uncertain, and
    said so on every run until the operator settles them. Without this, a changed plan hid
    them (found from outside: exit 0, while `briefing ledger` still listed one)."""
    prefix = f"{ledger_name(run.mailer)}:"
    out = []
    for e in run.store.ledger_entries(run.authority, run.cycle):
        if e.key in planned or not e.key.startswith(prefix) \
                or e.status not in (SENDING, UNCERTAIN):
            continue
        kind, owner = _kind_and_owner(e.key)
        if kind not in kinds:
            continue
        ident = ledger_id(e)
        error = (f"a run stopped while sending it and this run no longer plans it; it may "
                 f"have arrived. Ask the recipient, then briefing ledger --confirm-sent "
                 f"{ident} (it arrived) or --resend {ident} (it did not: what it covered is "
                 "in this run's messages as planned now)")
        if e.status != UNCERTAIN or e.error != error:
            run.store.ledger_put(replace(e, status=UNCERTAIN, error=error))
        out.append(Delivery(kind, owner, e.recipient, [], UNCERTAIN, run.mailer.transport,
                            error))
    return out


def _kind_and_owner(key: str) -> tuple[str, str | None]:
    """The kind and owner a ledger key names (`Notice.ledger_key`)."""
    parts = key.split(":")
    kind = parts[1] if len(parts) > 1 else "message"
    return kind, (unquote(parts[2]) if len(parts) > 3 else None)


def _deliver_one(run: _Delivering, n: Notice, key: str, prior: LedgerEntry | None) -> Delivery:
    def record(status: str, error: str = "") -> Delivery:
        return Delivery(n.kind, n.owner, n.to, n.indicators, status, run.mailer.transport, error)

    def put(status: str, message_id: str = "", error: str = "") -> None:
        run.store.ledger_put(LedgerEntry(run.authority, run.cycle, key, n.to, status,
                                         message_id, error))

    if prior is not None and not run.resend:
        if prior.status == SENT:
            return record(ALREADY_SENT)
        if prior.status in (SENDING, UNCERTAIN):
            settled = _settle(run, n, key, prior, put, record)
            if settled is not None:
                return settled
    if n.edition is not None and n.edition not in run.pdfs:
        return record(WAITING, f"the {n.edition.value} edition was not written by this run")
    if not allowed_address(n.to, run.config.briefing.mail.allowed_domains):
        error = f"{n.to.rsplit('@', 1)[-1].lower()} is not in mail.allowed_domains; not sent"
        put(FAILED, "", error)
        return record(FAILED, error)
    if run.unreachable:
        put(FAILED, "", run.unreachable)
        return record(FAILED, run.unreachable)
    return _send(run, n, put, record)


def _settle(run: _Delivering, n: Notice, key: str, prior: LedgerEntry, put: _Put,
            record: _Record) -> Delivery | None:
    """A message a run stopped while sending: already there by the outbox's evidence, not
    there (None: send it again), or uncertain until the operator says (`briefing ledger`)."""
    witness = run.mailer if isinstance(run.mailer, Witness) else None
    if witness is not None and prior.message_id:
        if witness.delivered(prior.message_id):
            put(SENT, prior.message_id, "found in the outbox after a run stopped")
            return record(ALREADY_SENT)
        return None
    ident = ledger_id(LedgerEntry(run.authority, run.cycle, key, n.to, prior.status))
    error = (f"a run stopped while sending it; it may have arrived. Ask the recipient, then "
             f"briefing ledger --confirm-sent {ident} (it arrived) or --resend {ident} (it "
             "did not; the next run sends it)")
    if prior.key != key or prior.status != UNCERTAIN or prior.error != error:
        put(UNCERTAIN, prior.message_id, error)
    return record(UNCERTAIN, error)


def _send(run: _Delivering, n: Notice, put: _Put, record: _Record) -> Delivery:
    pdf, pdf_name = run.pdfs[n.edition] if n.edition is not None else (None, "")
    sheet = run.sheets.get(n.edition) if n.spreadsheet and n.edition else None
    extra = run.packs.get(n.owner or "", []) if n.kind in (BREACH, REMINDER) else []
    msg = build_message(n, run.config, pdf, pdf_name, sheet=sheet, packs=extra)
    message_id = str(msg["Message-ID"])
    put(SENDING, message_id)
    try:
        run.mailer.send(msg)
    except Exception as exc:  # one bad message must not stop the others
        error = f"{type(exc).__name__}: {exc}"[:500]
        if is_transient(exc):
            run.unreachable = f"not attempted: the mail server failed ({error[:200]})"
        put(FAILED, message_id, error)
        return record(FAILED, error)
    except BaseException as exc:  # stopped mid-send (SIGTERM, Ctrl-C): it may have gone
        put(UNCERTAIN, message_id, f"the run was stopped while sending it "
                                   f"({type(exc).__name__})")
        raise
    put(SENT, message_id)
    return record(SENT)


_Put = Callable[..., None]
_Record = Callable[..., Delivery]
