"""Who is told what: one message per owner with breaches, the briefing to its recipients.

Planning is pure (from the briefing context, so emails say no more than the paper);
delivery goes through a Mailer and the store's ledger, so a re-run of the same cycle
sends nothing that was already sent, and a failure is recorded and retried next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr

from tasks.config import Config
from tasks.context import BriefingContext, IndicatorView
from tasks.formatting import Edition
from tasks.mail import Mailer, is_transient, new_message
from tasks.render import environment
from tasks.store import HistoryStore, LedgerEntry

BREACH, BRIEFING = "breach", "briefing"
SENT, ALREADY_SENT, FAILED, UNCERTAIN = "sent", "already_sent", "failed", "uncertain"


@dataclass(frozen=True)
class Notice:
    kind: str
    owner: str | None
    to: str
    to_name: str
    indicators: list[str]
    subject: str
    text: str
    html: str
    edition: Edition = Edition.PUBLIC

    def ledger_key(self, transport: str) -> str:
        return f"{transport}:{self.kind}:{self.to.lower()}"


@dataclass(frozen=True)
class Delivery:
    kind: str
    owner: str | None
    to: str
    indicators: list[str]
    status: str
    transport: str
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"owner": self.owner, "to": self.to, "indicators": self.indicators,
                "status": self.status, "kind": self.kind, "transport": self.transport,
                "error": self.error}


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
        fields = {"ctx": ctx, "owner": owner, "indicators": inds}
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
            env.get_template("email_briefing.html.j2").render(**fields2), edition))
    return notices


def build_message(notice: Notice, config: Config, pdf: bytes, pdf_name: str) -> EmailMessage:
    mail = config.briefing.mail
    msg = new_message(formataddr((config.briefing.authority.name, mail.sender)),
                      formataddr((notice.to_name, notice.to)), notice.subject)
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg["X-Briefing-Kind"] = notice.kind
    msg.set_content(notice.text)
    msg.add_alternative(notice.html, subtype="html")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return msg


def deliver(notices: list[Notice], config: Config, pdfs: dict[Edition, tuple[bytes, str]],
            mailer: Mailer, store: HistoryStore, cycle: str,
            resend: bool = False) -> list[Delivery]:
    """Send each notice at most once per cycle and transport, recording each in the ledger.

    A message left `sending` by a run that stopped mid-send is not sent again without
    `resend`: it may have gone, and twice by accident is worse than once by hand.
    """
    authority = config.briefing.authority.code
    out: list[Delivery] = []
    unreachable = ""  # once the server is down after retries, the rest wait for the next run
    for n in notices:
        key = n.ledger_key(mailer.transport)
        prior = store.ledger_get(authority, cycle, key)

        def record(status: str, error: str = "", _n: Notice = n) -> None:
            out.append(Delivery(_n.kind, _n.owner, _n.to, _n.indicators, status,
                                mailer.transport, error))

        if prior is not None and not resend and prior.status in (SENT, "sending"):
            record(ALREADY_SENT if prior.status == SENT else UNCERTAIN,
                   "" if prior.status == SENT else "a previous run stopped while sending; "
                   "use --resend if it did not arrive")
            continue
        allowed = [d.lower() for d in config.briefing.mail.allowed_domains]
        domain = n.to.rsplit("@", 1)[-1].lower()
        if allowed and domain not in allowed:
            error = f"{domain} is not in mail.allowed_domains; not sent"
            store.ledger_put(LedgerEntry(authority, cycle, key, n.to, FAILED, "", error))
            record(FAILED, error)
            continue
        if unreachable:
            store.ledger_put(LedgerEntry(authority, cycle, key, n.to, FAILED, "", unreachable))
            record(FAILED, unreachable)
            continue
        msg = build_message(n, config, *pdfs[n.edition])
        entry = LedgerEntry(authority, cycle, key, n.to, "sending", str(msg["Message-ID"]))
        store.ledger_put(entry)
        try:
            mailer.send(msg)
        except Exception as exc:  # one bad message must not stop the others
            error = f"{type(exc).__name__}: {exc}"[:500]
            if is_transient(exc):
                unreachable = f"not attempted: the mail server failed ({error[:200]})"
            store.ledger_put(LedgerEntry(authority, cycle, key, n.to, FAILED,
                                         entry.message_id, error))
            record(FAILED, error)
            continue
        store.ledger_put(LedgerEntry(authority, cycle, key, n.to, SENT, entry.message_id))
        record(SENT)
    return out
