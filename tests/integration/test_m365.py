"""Mail through Microsoft 365: a client-credentials token from msal, then SMTP AUTH XOAUTH2
or Graph sendMail, against stand-ins on 127.0.0.1 that speak the real protocols
(tests/m365_standins.py). Each path delivers the demo's messages exactly once through the
faults Microsoft 365 gives: throttling (429, Retry-After), an expired token, 5xx, a
temporary SMTP failure; and a lasting fault fails into the ledger for the next run. Each
takes well under two seconds (the longest waits out a Retry-After of 1 s), so they run in
`make check`; the one that loads a Prefect Secret block needs the engine, and is slow."""

from __future__ import annotations

import datetime as dt
import email
from collections import Counter
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tasks.adapters.m365 import GraphMailer, SmtpOAuthMailer, graph_message
from tasks.adapters.mail import MailConfigError, MemoryMailer
from tasks.adapters.mailers import mailer_from_env
from tasks.run.delivery import notify
from tasks.run.inputs import Inputs
from tasks.run.papers import Rendered
from tasks.settings.formatting import Edition
from tasks.store.history import MemoryHistoryStore
from tests.conftest import free_port
from tests.m365_standins import (
    CLIENT_ID,
    SECRET,
    SENDER,
    TENANT,
    Graph,
    Identity,
    XOAuth2Inbox,
    https_server,
    xoauth2_smtp,
)
from tests.tls import make_cert

Demo = tuple[Inputs, Rendered]


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"))


def base_env(ca: Path, authority: str) -> dict[str, str]:
    return {"BRIEFING_M365_TENANT_ID": TENANT, "BRIEFING_M365_CLIENT_ID": CLIENT_ID,
            "BRIEFING_M365_CLIENT_SECRET": SECRET, "BRIEFING_M365_AUTHORITY_HOST": authority,
            "BRIEFING_M365_CA_FILE": str(ca), "BRIEFING_M365_TIMEOUT": "5"}


def graph_env(ca: Path, base: str, **extra: str) -> dict[str, str]:
    return base_env(ca, base) | {"BRIEFING_MAIL_TRANSPORT": "graph", "BRIEFING_GRAPH_URL": base,
                                 "BRIEFING_GRAPH_BACKOFF": "0.01",
                                 "BRIEFING_GRAPH_TIMEOUT": "10"} | extra


def with_spreadsheet(demo: Demo) -> Inputs:
    """The demo's inputs with the director asking for the workbook too."""
    inputs, _ = demo
    b = inputs.config.briefing
    recipients = [r.model_copy(update={"spreadsheet": r.email == "dcs@example.gov.uk"})
                  for r in b.recipients]
    config = inputs.config.model_copy(update={"briefing": b.model_copy(
        update={"recipients": recipients})})
    return Inputs(config, inputs.cycle, inputs.records, [], [])


@pytest.fixture
def graph(cert: tuple[Path, Path]) -> Iterator[tuple[str, Graph]]:
    identity = Identity(scope="")
    g = Graph(identity)
    with https_server(cert, identity, g) as base:
        identity.scope = f"{base}/.default"
        yield base, g


def expected(demo: Demo) -> Counter[str]:
    inputs, rendered = demo
    out = notify(inputs, rendered, MemoryHistoryStore(), MemoryMailer(), False)
    assert len(out) == 9
    return Counter(d.to for d in out)


def test_graph_delivers_each_message_once_through_throttling_expiry_and_5xx(
        demo: Demo, graph: tuple[str, Graph], cert: tuple[Path, Path]) -> None:
    base, g = graph
    _, rendered = demo
    inputs = with_spreadsheet(demo)
    # Message 2 is throttled; message 3 finds its token expired; message 4 meets two 503s.
    g.faults = ["ok", "429", "ok", "expire", "ok", "503", "503", "ok"]
    mailer = mailer_from_env(graph_env(cert[0], base))
    assert isinstance(mailer, GraphMailer)
    store = MemoryHistoryStore()
    out = notify(inputs, rendered, store, mailer, False)
    assert {d.status for d in out} == {"sent"}, [d.error for d in out]
    assert Counter(to for s in g.sent for to in s.to) == expected(demo)  # each exactly once
    assert len(g.identity.issued) == 2  # the first token, and one after it expired
    statuses = [status for _, status in g.log]
    assert statuses == [202, 429, 202, 401, 202, 503, 503, 202] + [202] * 5
    # Retry-After: 1 was waited for before the throttled message went again.
    (t429, _), (t_next, _) = g.log[1], g.log[2]
    assert t_next - t429 >= 1.0
    # The JSON message: HTML body, addresses, and the PDF (and workbook) byte for byte.
    owner = next(s for s in g.sent if s.to == ["aisha.rahman@example.gov.uk"])
    assert owner.message["body"]["contentType"] == "HTML"
    assert "Care leavers" in owner.message["body"]["content"]
    book, book_name = rendered.returns["head_care_leavers"]
    assert owner.attachments == {"999-2024-10-briefing-restricted.pdf":
                                 rendered.restricted.pdf, book_name: book}
    headers = {h["name"]: h["value"] for h in owner.message["internetMessageHeaders"]}
    assert headers["X-Briefing-Kind"] == "breach"
    dcs = next(s for s in g.sent if s.to == ["dcs@example.gov.uk"])
    assert dcs.attachments == {
        "999-2024-10-briefing-public.pdf": rendered.public.pdf,
        "999-2024-10-briefing-public.xlsx": rendered.sheets[Edition.PUBLIC]}
    clerk = next(s for s in g.sent if s.to == ["scrutiny.clerk@example.gov.uk"])
    assert list(clerk.attachments) == ["999-2024-10-briefing-public.pdf"]
    # A re-run sends nothing again, and does not even ask Graph.
    again = notify(inputs, rendered, store, mailer, False)
    assert {d.status for d in again} == {"already_sent"} and len(g.log) == 13


def test_graph_5xx_that_lasts_fails_into_the_ledger_and_the_next_run_sends(
        demo: Demo, graph: tuple[str, Graph], cert: tuple[Path, Path]) -> None:
    base, g = graph
    inputs, rendered = demo
    g.faults = ["503"] * 4  # the first message and its three retries
    store = MemoryHistoryStore()
    down = notify(inputs, rendered, store,
                           mailer_from_env(graph_env(cert[0], base)), False)
    assert {d.status for d in down} == {"failed"} and not g.sent
    assert "HTTP 503 ServiceUnavailable" in down[0].error
    assert all(d.error.startswith("not attempted") for d in down[1:])
    assert len(g.log) == 4
    # One ledger entry per message as planned (issue 24: owner and indicators, not the
    # address alone), every one of them failed.
    entries = store.ledger_entries("999", "2024-10")
    assert len(entries) == len(down)
    assert {e.status for e in entries} == {"failed"}
    up = notify(inputs, rendered, store, mailer_from_env(graph_env(cert[0], base)),
                         False)
    assert {d.status for d in up} == {"sent"}
    assert Counter(to for s in g.sent for to in s.to) == expected(demo)


def rsa_certificate(folder: Path, pfx: bool = False) -> Path:
    """An application certificate as a PEM file holding its key and certificate, or as a
    PFX (PKCS #12) file, as Windows and Entra ID export it; both with a password."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "scrutiny-briefing")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    if pfx:
        from cryptography.hazmat.primitives.serialization import pkcs12

        path = folder / "app.pfx"
        path.write_bytes(pkcs12.serialize_key_and_certificates(
            b"scrutiny-briefing", key, cert, None,
            serialization.BestAvailableEncryption(b"pw-not-leaked")))
        (folder / "app-cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path
    path = folder / "app.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(b"pw-not-leaked"))
                     + cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.mark.parametrize("kind", ["pem", "pfx"])
def test_graph_with_a_certificate_instead_of_a_secret(
        demo: Demo, graph: tuple[str, Graph], cert: tuple[Path, Path], tmp_path: Path,
        kind: str) -> None:
    base, g = graph
    inputs, rendered = demo
    app = rsa_certificate(tmp_path, pfx=kind == "pfx")
    g.identity.certificate = (
        (tmp_path / "app-cert.pem").read_bytes() if kind == "pfx"
        else app.read_bytes().split(b"-----END ENCRYPTED PRIVATE KEY-----")[1])
    env = graph_env(cert[0], base, BRIEFING_M365_CERTIFICATE=str(app),
                    BRIEFING_M365_CERTIFICATE_PASSWORD="pw-not-leaked")
    del env["BRIEFING_M365_CLIENT_SECRET"]
    out = notify(inputs, rendered, MemoryHistoryStore(), mailer_from_env(env), False)
    assert {d.status for d in out} == {"sent"}, out[0].error
    assert len(g.sent) == 9 and len(g.identity.issued) == 1


def test_a_refused_secret_fails_each_message_without_leaking_it(
        demo: Demo, graph: tuple[str, Graph], cert: tuple[Path, Path]) -> None:
    base, g = graph
    inputs, rendered = demo
    env = graph_env(cert[0], base, BRIEFING_M365_CLIENT_SECRET="wrong-" + SECRET)
    out = notify(inputs, rendered, MemoryHistoryStore(), mailer_from_env(env), False)
    assert {d.status for d in out} == {"failed"} and not g.sent and not g.log
    assert all("invalid_client" in d.error and SECRET not in d.error for d in out)


# --- SMTP AUTH XOAUTH2 -----------------------------------------------------------------------

@pytest.fixture
def identity(cert: tuple[Path, Path]) -> Iterator[tuple[str, Identity]]:
    ident = Identity(scope="https://outlook.office365.com/.default")
    with https_server(cert, ident) as base:
        yield base, ident


def smtp_env(ca: Path, authority: str, port: int) -> dict[str, str]:
    return base_env(ca, authority) | {
        "BRIEFING_MAIL_TRANSPORT": "smtp-oauth", "BRIEFING_SMTP_HOST": "127.0.0.1",
        "BRIEFING_SMTP_PORT": str(port), "BRIEFING_SMTP_CA_FILE": str(ca),
        "BRIEFING_SMTP_TIMEOUT": "5", "BRIEFING_SMTP_BACKOFF": "0.01"}


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_xoauth2_delivers_each_message_once_through_expiry_and_a_temporary_failure(
        demo: Demo, identity: tuple[str, Identity], cert: tuple[Path, Path]) -> None:
    authority, ident = identity
    _, rendered = demo
    inputs = with_spreadsheet(demo)
    # The 4th sign-in finds the token expired; the 6th message is answered 451 once.
    inbox = XOAuth2Inbox(ident, expire_at_auth={4}, fail_data_at={6})
    with xoauth2_smtp(cert, inbox) as port:
        mailer = mailer_from_env(smtp_env(cert[0], authority, port))
        assert isinstance(mailer, SmtpOAuthMailer)
        store = MemoryHistoryStore()
        out = notify(inputs, rendered, store, mailer, False)
        again = notify(inputs, rendered, store, mailer, False)
    assert {d.status for d in out} == {"sent"}, [d.error for d in out]
    assert {d.status for d in again} == {"already_sent"}
    assert Counter(to for _, tos, _ in inbox.messages for to in tos) == expected(demo)
    assert len(ident.issued) == 2
    # 9 sign-ins, one refused (expired) and tried again, one more for the retried message.
    assert [ok for _, ok in inbox.auths].count(False) == 1 and len(inbox.auths) == 11
    assert {user for user, _ in inbox.auths} == {SENDER}
    dcs = parse(next(raw for _, tos, raw in inbox.messages if tos == ["dcs@example.gov.uk"]))
    files = {a.get_filename(): a.get_content() for a in dcs.iter_attachments()}
    assert files == {"999-2024-10-briefing-public.pdf": rendered.public.pdf,
                     "999-2024-10-briefing-public.xlsx": rendered.sheets[Edition.PUBLIC]}


def test_xoauth2_server_down_fails_into_the_ledger_and_the_next_run_sends(
        demo: Demo, identity: tuple[str, Identity], cert: tuple[Path, Path]) -> None:
    authority, ident = identity
    inputs, rendered = demo
    store = MemoryHistoryStore()
    down = notify(inputs, rendered, store,
                           mailer_from_env(smtp_env(cert[0], authority, free_port())), False)
    assert {d.status for d in down} == {"failed"}
    inbox = XOAuth2Inbox(ident)
    with xoauth2_smtp(cert, inbox) as port:
        up = notify(inputs, rendered, store,
                             mailer_from_env(smtp_env(cert[0], authority, port)), False)
    assert {d.status for d in up} == {"sent"}
    assert Counter(to for _, tos, _ in inbox.messages for to in tos) == expected(demo)


# --- Settings, fast --------------------------------------------------------------------------

def test_settings_name_what_is_missing_and_never_show_the_secret(tmp_path: Path) -> None:
    env = {"BRIEFING_MAIL_TRANSPORT": "graph"}
    with pytest.raises(MailConfigError, match="BRIEFING_M365_TENANT_ID is not set"):
        mailer_from_env(env)
    env["BRIEFING_M365_TENANT_ID"] = TENANT
    with pytest.raises(MailConfigError, match="BRIEFING_M365_CLIENT_ID is not set"):
        mailer_from_env(env)
    env["BRIEFING_M365_CLIENT_ID"] = CLIENT_ID
    with pytest.raises(MailConfigError, match="set one of BRIEFING_M365_CLIENT_SECRET"):
        mailer_from_env(env)
    both = env | {"BRIEFING_M365_CLIENT_SECRET": SECRET, "BRIEFING_M365_CERTIFICATE": "x.pem"}
    with pytest.raises(MailConfigError) as exc:
        mailer_from_env(both)
    assert SECRET not in str(exc.value) and "not BRIEFING_M365_CLIENT_SECRET and" in str(
        exc.value)
    with pytest.raises(MailConfigError, match="https address"):
        mailer_from_env(env | {"BRIEFING_M365_CLIENT_SECRET": SECRET,
                               "BRIEFING_GRAPH_URL": "http://127.0.0.1:9"})
    with pytest.raises(MailConfigError, match="must be one of smtp, smtp-oauth, graph"):
        mailer_from_env({"BRIEFING_MAIL_TRANSPORT": "exchange"})
    with pytest.raises(MailConfigError, match="BRIEFING_SMTP_PASSWORD is not used"):
        mailer_from_env(env | {"BRIEFING_MAIL_TRANSPORT": "smtp-oauth",
                               "BRIEFING_M365_CLIENT_SECRET": SECRET,
                               "BRIEFING_SMTP_PASSWORD": "old"})
    mailer = mailer_from_env(env | {"BRIEFING_M365_CLIENT_SECRET": SECRET})
    assert isinstance(mailer, GraphMailer) and SECRET not in repr(mailer.tokens)
    assert mailer.settings.url == "https://graph.microsoft.com"
    assert mailer.tokens.credentials.authority == \
        f"https://login.microsoftonline.com/{TENANT}"
    oauth = mailer_from_env(env | {"BRIEFING_MAIL_TRANSPORT": "smtp-oauth",
                                   "BRIEFING_M365_CLIENT_SECRET": SECRET})
    assert isinstance(oauth, SmtpOAuthMailer)
    assert (oauth.settings.host, oauth.settings.port) == ("smtp.office365.com", 587)


def test_a_certificate_that_does_not_open_is_refused_before_the_run(tmp_path: Path) -> None:
    app = rsa_certificate(tmp_path)
    env = {"BRIEFING_MAIL_TRANSPORT": "graph", "BRIEFING_M365_TENANT_ID": TENANT,
           "BRIEFING_M365_CLIENT_ID": CLIENT_ID, "BRIEFING_M365_CERTIFICATE": str(app),
           "BRIEFING_M365_CERTIFICATE_PASSWORD": "wrong-password"}
    with pytest.raises(MailConfigError, match="cannot be read") as exc:
        mailer_from_env(env)
    assert "wrong-password" not in str(exc.value)
    env["BRIEFING_M365_CERTIFICATE_PASSWORD"] = "pw-not-leaked"
    assert isinstance(mailer_from_env(env), GraphMailer)


def test_send_without_m365_settings_is_one_line_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from tests.e2e.test_usage_errors import run_args, usage_error

    monkeypatch.setenv("BRIEFING_MAIL_TRANSPORT", "graph")
    monkeypatch.setenv("BRIEFING_M365_CLIENT_SECRET", SECRET)
    line = usage_error(run_args(tmp_path / "out", "--send"), capsys)
    assert "BRIEFING_M365_TENANT_ID is not set" in line and SECRET not in line
    assert not (tmp_path / "out").exists()


def test_the_graph_request_carries_the_whole_message(demo: Demo) -> None:
    from tasks.delivering.notify import build_message, plan_notices

    inputs, rendered = demo
    notice = next(n for n in plan_notices(inputs.config, rendered.contexts)
                  if n.to == "dcs@example.gov.uk")
    msg = build_message(notice, inputs.config, b"%PDF-1.7 x", "a.pdf", sheet=(b"PK\x03\x04",
                                                                              "a.xlsx"))
    req: dict[str, Any] = graph_message(msg)
    m = req["message"]
    assert req["saveToSentItems"] is True and m["subject"] == str(msg["Subject"])
    assert m["toRecipients"] == [{"emailAddress": {"address": "dcs@example.gov.uk",
                                                   "name": notice.to_name}}]
    assert [(a["name"], a["contentType"], a["contentBytes"]) for a in m["attachments"]] == [
        ("a.pdf", "application/pdf", "JVBERi0xLjcgeA=="),
        ("a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "UEsDBA==")]
    assert m["replyTo"][0]["emailAddress"]["address"] == inputs.config.briefing.mail.reply_to


def test_real_mail_shares_one_ledger_whatever_the_transport(demo: Demo) -> None:
    """A council that moves from SMTP to Graph mid-cycle sends nothing twice."""
    inputs, rendered = demo
    store = MemoryHistoryStore()
    smtp, graph = MemoryMailer(), MemoryMailer()
    smtp.transport, graph.transport = "smtp", "graph"
    notify(inputs, rendered, store, smtp, False)
    again = notify(inputs, rendered, store, graph, False)
    assert {d.status for d in again} == {"already_sent"} and not graph.sent
    outbox = MemoryMailer()
    outbox.transport = "outbox"
    assert {d.status for d in notify(inputs, rendered, store, outbox, False)} == {
        "sent"}


def test_throttling_waits_as_long_as_retry_after_says() -> None:
    from tasks.adapters.m365 import _retry_after

    assert _retry_after("7") == 7.0
    soon = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30),
                                       usegmt=True)
    wait = _retry_after(soon)
    assert wait is not None and 25 <= wait <= 30
    assert _retry_after(None) is None and _retry_after("soon") is None


def test_the_client_secret_from_a_prefect_secret_block(
        demo: Demo, graph: tuple[str, Graph], cert: tuple[Path, Path],
        prefect_harness: None) -> None:
    """A deployment keeps the client secret in a Prefect Secret block: named by
    BRIEFING_M365_CLIENT_SECRET_BLOCK, loaded from the real Prefect API, and the messages go
    once; a block that does not exist is one clear line naming the setting, not the secret."""
    from prefect.blocks.system import Secret

    base, g = graph
    inputs, rendered = demo
    Secret(value=SECRET).save("briefing-m365-secret", overwrite=True)
    env = graph_env(cert[0], base, BRIEFING_M365_CLIENT_SECRET_BLOCK="briefing-m365-secret")
    del env["BRIEFING_M365_CLIENT_SECRET"]
    out = notify(inputs, rendered, MemoryHistoryStore(), mailer_from_env(env), False)
    assert {d.status for d in out} == {"sent"}, out[0].error
    assert len(g.sent) == 9 and len(g.identity.issued) == 1
    with pytest.raises(MailConfigError) as exc:
        mailer_from_env(env | {"BRIEFING_M365_CLIENT_SECRET_BLOCK": "no-such-block"})
    assert "BRIEFING_M365_CLIENT_SECRET_BLOCK" in str(exc.value)
    assert "'no-such-block'" in str(exc.value) and SECRET not in str(exc.value)
