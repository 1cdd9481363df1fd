"""Mail through Microsoft 365 without a password: an OAuth 2.0 client-credentials token from
the Microsoft identity platform (msal), then SMTP AUTH XOAUTH2 or Microsoft Graph `sendMail`.

Exchange Online is turning basic authentication for SMTP submission off, so a council's
briefing has to sign in as an application. Both transports are Mailers (tasks.adapters.mail): the
same
delivery step, ledger and allowed domains as SMTP. Settings come from environment variables
(or a Prefect Secret block for the client secret), never YAML; a missing one stops the run
before anything is written. The secret, the certificate's password and every token stay out
of logs, reprs and error messages.

The authority and Graph hosts are settings (BRIEFING_M365_AUTHORITY_HOST, BRIEFING_GRAPH_URL)
for national clouds and for the tests' stand-ins on 127.0.0.1. msal accepts only an https
authority; with instance discovery off it trusts the host it is given and reads the tenant's
OpenID configuration from it, so the stand-ins speak TLS with a certificate authority named
by BRIEFING_M365_CA_FILE.
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import requests

from tasks.adapters.mail import (
    ENV_PREFIX,
    MAX_RETRIES,
    MAX_WAIT,
    MailConfigError,
    Mailer,
    SmtpMailer,
    SmtpSettings,
    check_ranges,
    secret_from_prefect,
)
from tasks.settings.environment import SettingError, Settings

M365 = "BRIEFING_M365_"
GRAPH = "BRIEFING_GRAPH_"
AUTHORITY_HOST = "https://login.microsoftonline.com"
GRAPH_URL = "https://graph.microsoft.com"
SMTP_HOST = "smtp.office365.com"
SMTP_SCOPE = "https://outlook.office365.com/.default"
# Graph takes a sendMail request of up to 4 MB; larger attachments need an upload session.
GRAPH_MAX_REQUEST = 4 * 1024 * 1024


class M365Error(Exception):
    """Microsoft 365 refused or failed: `transient` says whether the rest of the run's
    messages should wait for the next run (tasks.adapters.mail.is_transient reads it)."""

    def __init__(self, message: str, transient: bool = False, status: int | None = None):
        super().__init__(message)
        self.transient = transient
        self.status = status


def _short(text: object, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclass(frozen=True)
class Credentials:
    """Who the application is: tenant, client id, and a secret or a certificate."""

    tenant: str
    client_id: str
    scope: str
    authority_host: str = AUTHORITY_HOST
    secret: str | None = field(default=None, repr=False)
    certificate: str | None = None  # a PEM (key and certificate) or PFX file
    certificate_password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        check_ranges(M365, {"timeout": self.timeout}, "m365_")

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant}"

    def client_credential(self) -> str | dict[str, Any]:
        """In msal's form: the secret, or the certificate (its SHA-256 thumbprint is worked
        out by msal from the certificate itself)."""
        if self.secret is not None:
            return self.secret
        assert self.certificate is not None
        path = Path(self.certificate)
        cred: dict[str, Any] = {}
        if self.certificate_password:
            cred["passphrase"] = self.certificate_password
        if path.suffix.lower() in (".pfx", ".p12"):
            return cred | {"private_key_pfx_path": str(path)}
        text = path.read_text(encoding="ascii")
        key = re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----",
                        text, re.S)
        cert = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S)
        assert key is not None and cert is not None  # checked by credentials_for
        return cred | {"private_key": key.group(0), "public_certificate": cert.group(0)}


def _https_base(value: str, variable: str) -> str:
    url = urlparse(value.strip())
    if url.scheme != "https" or not url.hostname or url.path.strip("/") or url.query:
        raise MailConfigError(f"{variable} must be an https address with no path, such as "
                              f"{AUTHORITY_HOST if 'AUTHORITY' in variable else GRAPH_URL}, "
                              f"not {_short(value, 60)!r}")
    return f"https://{url.netloc}"


def _number(s: Settings, name: str, default: float) -> float:
    """A numeric setting within its range (tasks.settings.environment.NUMBERS), as a
    MailConfigError."""
    try:
        return s.number(name, default)
    except SettingError as exc:
        raise MailConfigError(str(exc)) from None


def credentials_for(s: Settings, scope: str, transport: str) -> Credentials:
    """The application's credentials from BRIEFING_M365_*; checked now, token fetched later."""
    def need(name: str, what: str) -> str:
        value = (getattr(s, "m365_" + name.lower()) or "").strip()
        if not value:
            raise MailConfigError(f"{M365}{name} is not set: BRIEFING_MAIL_TRANSPORT="
                                  f"{transport} needs {what} (see docs/email.md, 'Microsoft 365')")
        return value

    tenant = need("TENANT_ID", "the directory (tenant) id of the app registration")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,99}", tenant):
        raise MailConfigError(f"{M365}TENANT_ID must be a tenant id (a GUID) or domain")
    client_id = need("CLIENT_ID", "the application (client) id of the app registration")
    secret = s.secret("m365_client_secret")
    block = s.m365_client_secret_block or None
    certificate = s.m365_certificate or None
    given = [n for n, v in (("CLIENT_SECRET", secret), ("CLIENT_SECRET_BLOCK", block),
                            ("CERTIFICATE", certificate)) if v]
    if len(given) != 1:
        raise MailConfigError(
            f"set one of {M365}CLIENT_SECRET, {M365}CLIENT_SECRET_BLOCK (a Prefect Secret "
            f"block) or {M365}CERTIFICATE for BRIEFING_MAIL_TRANSPORT={transport}"
            + (f", not {' and '.join(M365 + n for n in given)}" if given else ""))
    if block:
        secret = secret_from_prefect(block, M365 + "CLIENT_SECRET_BLOCK")
    password = s.secret("m365_certificate_password")
    if certificate:
        _check_certificate(Path(certificate), password)
    ca_file = s.m365_ca_file or None
    if ca_file and not Path(ca_file).is_file():
        raise MailConfigError(f"{M365}CA_FILE: {ca_file} not found")
    host = _https_base(s.m365_authority_host or AUTHORITY_HOST, M365 + "AUTHORITY_HOST")
    return Credentials(tenant, client_id, (s.m365_scope or scope).strip(), host,
                       secret, certificate, password, ca_file,
                       _number(s, "m365_timeout", 30.0))


def _check_certificate(path: Path, password: str | None) -> None:
    """The certificate file opens with its password, so a wrong one fails before the run."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

    what = f"{M365}CERTIFICATE: {path}"
    if not path.is_file():
        raise MailConfigError(f"{what} not found")
    data = path.read_bytes()
    pw = password.encode() if password else None
    try:
        if path.suffix.lower() in (".pfx", ".p12"):
            key, cert, _ = pkcs12.load_key_and_certificates(data, pw)
            if key is None or cert is None:
                raise ValueError("no private key and certificate in it")
            return
        text = data.decode("ascii")
        key_pem = re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE "
                            r"KEY-----", text, re.S)
        cert_pem = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text,
                             re.S)
        if key_pem is None or cert_pem is None:
            raise ValueError("a PEM file needs both the private key and the certificate")
        load_pem_private_key(key_pem.group(0).encode(), pw)
        x509.load_pem_x509_certificate(cert_pem.group(0).encode())
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        reason = str(exc) if "needs both" in str(exc) or "no private key" in str(exc) \
            else f"cannot be read (wrong {M365}CERTIFICATE_PASSWORD, or not PEM/PFX)"
        raise MailConfigError(f"{what}: {reason}") from None


class HttpSession(requests.Session):
    """requests, with our CA file and timeout on every request. requests lets
    REQUESTS_CA_BUNDLE override a session's own `verify` (msal's `verify=` too), so a CA
    named by BRIEFING_M365_CA_FILE is passed with each request, where it wins."""

    def __init__(self, ca_file: str | None, timeout: float):
        super().__init__()
        self.ca_file, self.timeout = ca_file, timeout
        # msal leaves retries to a client it is given: one retry of a failed connection,
        # as msal's own client has.
        adapter = requests.adapters.HTTPAdapter(max_retries=1)
        self.mount("https://", adapter)

    def request(self, method: str, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        """Session.request with this client's timeout and CA file, unless given."""
        kwargs.setdefault("timeout", self.timeout)
        if self.ca_file:
            kwargs["verify"] = self.ca_file
        return super().request(method, url, *args, **kwargs)


class TokenSource:
    """Access tokens for one scope, from msal's in-memory cache until they near expiry.

    The application is built on first use: msal reads the tenant's OpenID configuration
    when it is made, and checking settings must not need the network.
    """

    def __init__(self, credentials: Credentials):
        self.credentials = credentials
        self._app: Any = None

    def __repr__(self) -> str:
        return f"TokenSource({self.credentials!r})"

    def _application(self) -> Any:
        if self._app is None:
            import msal

            c = self.credentials
            try:
                self._app = msal.ConfidentialClientApplication(
                    c.client_id, client_credential=c.client_credential(),
                    authority=c.authority,
                    # The host is the operator's setting, not a guess to check with
                    # Microsoft: this also lets a stand-in on 127.0.0.1 be the authority.
                    instance_discovery=False,
                    http_client=HttpSession(c.ca_file, c.timeout))
            except ValueError as exc:  # the tenant is unknown to the authority
                raise M365Error(f"Microsoft identity platform: {_short(exc)}") from None
        return self._app

    def token(self) -> str:
        try:
            result = self._application().acquire_token_for_client([self.credentials.scope])
        except OSError as exc:  # requests' errors: the authority is unreachable
            raise M365Error(f"Microsoft identity platform unreachable ({type(exc).__name__})",
                            transient=True) from None
        if "access_token" in result:
            return str(result["access_token"])
        error = str(result.get("error", "no token"))
        description = str(result.get("error_description", "")).splitlines()[0:1]
        raise M365Error(f"no token from the Microsoft identity platform: {error}"
                        + (f": {_short(description[0])}" if description else ""),
                        transient=error in ("temporarily_unavailable", "server_error"))

    def invalidate(self) -> None:
        """Forget cached tokens: the server said ours has expired or was revoked."""
        if self._app is None:
            return
        import msal

        cache = self._app.token_cache
        for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(item)


def sender_of(message: EmailMessage) -> str:
    """The From address: the mailbox the application sends as."""
    addresses: tuple[Any, ...] = tuple(getattr(message["From"], "addresses", ()))
    if len(addresses) != 1:
        raise ValueError("the message needs exactly one From address")
    return str(addresses[0].addr_spec)


# --- SMTP AUTH XOAUTH2 -----------------------------------------------------------------------

class XOAuth2:
    """SMTP AUTH XOAUTH2 as the sending mailbox. A refused token (expired, revoked) is
    dropped and a fresh one tried once on the same connection."""

    def __init__(self, tokens: TokenSource):
        self.tokens = tokens

    def __call__(self, smtp: smtplib.SMTP, message: EmailMessage) -> None:
        smtp.ehlo_or_helo_if_needed()
        if "XOAUTH2" not in smtp.esmtp_features.get("auth", "").upper().split():
            raise smtplib.SMTPNotSupportedError("the server does not offer AUTH XOAUTH2")
        user = sender_of(message)
        try:
            self._auth(smtp, user, self.tokens.token())
        except smtplib.SMTPAuthenticationError:
            self.tokens.invalidate()
            self._auth(smtp, user, self.tokens.token())

    @staticmethod
    def _auth(smtp: smtplib.SMTP, user: str, token: str) -> None:
        initial = f"user={user}\x01auth=Bearer {token}\x01\x01"

        def answer(challenge: bytes | None = None) -> str:
            # A 334 challenge carries the server's error; an empty reply ends the exchange
            # so that the server gives its 535.
            return initial if challenge is None else ""

        smtp.auth("XOAUTH2", answer)


class SmtpOAuthMailer(SmtpMailer):
    transport = "smtp-oauth"


# --- Microsoft Graph sendMail ----------------------------------------------------------------

@dataclass(frozen=True)
class GraphSettings:
    url: str = GRAPH_URL
    timeout: float = 30.0
    retries: int = 3  # tries after a 5xx or a failed connection
    backoff: float = 2.0  # seconds before the first of those, doubling
    max_wait: float = 120.0  # the longest Retry-After (429) waited for
    ca_file: str | None = None

    def __post_init__(self) -> None:
        """The numbers in their settings' ranges, however this was built."""
        check_ranges(GRAPH, {"timeout": self.timeout, "retries": self.retries,
                             "backoff": self.backoff, "max_wait": self.max_wait}, "graph_")


def graph_message(message: EmailMessage) -> dict[str, Any]:
    """The sendMail request for a message: its HTML body (or text), recipients as address
    and name, Reply-To, X- headers, and every attachment base64-encoded."""
    def people(name: str) -> list[dict[str, Any]]:
        out = []
        for header in message.get_all(name, []):
            for a in getattr(header, "addresses", ()):
                who: dict[str, str] = {"address": a.addr_spec}
                if a.display_name:
                    who["name"] = a.display_name
                out.append({"emailAddress": who})
        return out

    html, text = message.get_body(("html",)), message.get_body(("plain",))
    part = html or text
    body = ({"contentType": "HTML" if part is html else "Text", "content": part.get_content()}
            if part is not None else {"contentType": "Text", "content": ""})
    attachments = [{"@odata.type": "#microsoft.graph.fileAttachment",
                    "name": a.get_filename() or "attachment",
                    "contentType": a.get_content_type(),
                    "contentBytes": base64.b64encode(_raw(a)).decode()}
                   for a in message.iter_attachments()]
    msg: dict[str, Any] = {"subject": str(message.get("Subject", "")), "body": body,
                           "toRecipients": people("To")}
    for name, key in (("Cc", "ccRecipients"), ("Bcc", "bccRecipients"),
                      ("Reply-To", "replyTo")):
        if found := people(name):
            msg[key] = found
    headers = [{"name": k, "value": str(v)} for k, v in message.items()
               if k.lower().startswith("x-")]
    if headers:
        msg["internetMessageHeaders"] = headers
    if attachments:
        msg["attachments"] = attachments
    return {"message": msg, "saveToSentItems": True}


def _raw(part: EmailMessage) -> bytes:
    """An attachment's bytes as sent, whatever its type (text attachments too)."""
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, or as an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _graph_error(status: int, text: str) -> str:
    try:
        err = json.loads(text).get("error", {})
        return _short(f"{err.get('code', '')}: {err.get('message', '')}".strip(": "))
    except (ValueError, AttributeError):
        return _short(text, 120)


class GraphMailer:
    """POST /v1.0/users/{sender}/sendMail. 202 is sent. 429 waits for its Retry-After and
    tries again; 401 fetches a fresh token once; 5xx and a failed connection are retried
    with backoff, then failed as transient (the rest wait for the next run). No answer at
    all within the timeout is not retried: the message may have gone."""

    transport = "graph"

    def __init__(self, settings: GraphSettings, tokens: TokenSource,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.tokens = tokens
        self.sleep = sleep
        self.session = HttpSession(settings.ca_file, settings.timeout)

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        url = f"{s.url}/v1.0/users/{quote(sender_of(message), safe='@')}/sendMail"
        data = json.dumps(graph_message(message)).encode("utf-8")
        if len(data) > GRAPH_MAX_REQUEST:
            raise M365Error(f"the message is {len(data) / 2**20:.1f} MB as a Graph request; "
                            "sendMail takes at most 4 MB (use BRIEFING_MAIL_TRANSPORT="
                            "smtp-oauth for larger papers)")
        delay, retried, throttled, refreshed = s.backoff, 0, 0, False
        retries = min(max(s.retries, 0), MAX_RETRIES)  # bounded however it was built
        while True:
            headers = {"Authorization": f"Bearer {self.tokens.token()}",
                       "Content-Type": "application/json"}
            try:
                resp = self.session.post(url, data=data, headers=headers, timeout=s.timeout)
            except requests.ReadTimeout:
                raise M365Error(f"no answer from Graph within {s.timeout:g} s; the message "
                                "may have been sent", transient=True) from None
            except requests.ConnectionError as exc:
                if retried < retries:
                    retried += 1
                    self.sleep(min(delay, MAX_WAIT))
                    delay *= 2
                    continue
                raise M365Error(f"Graph unreachable ({type(exc).__name__})",
                                transient=True) from None
            status = resp.status_code
            if status == 202:
                return
            if status == 401 and not refreshed:
                refreshed = True
                self.tokens.invalidate()
                continue
            wait = _retry_after(resp.headers.get("Retry-After"))
            if status == 429 and throttled < retries + 1:
                throttled += 1
                wait = delay if wait is None else wait
                if wait > s.max_wait:
                    raise M365Error(f"Graph asked to wait {wait:g} s (more than "
                                    f"{GRAPH}MAX_WAIT)", transient=True, status=status)
                self.sleep(wait)
                continue
            if status >= 500 and retried < retries:
                retried += 1
                self.sleep(min(s.max_wait, MAX_WAIT, wait if wait is not None else delay))
                delay *= 2
                continue
            raise M365Error(f"Graph sendMail: HTTP {status} {_graph_error(status, resp.text)}",
                            transient=status >= 500 or status == 429, status=status)


def graph_settings_for(s: Settings) -> GraphSettings:
    return GraphSettings(_https_base(s.graph_url or GRAPH_URL, GRAPH + "URL"),
                         _number(s, "graph_timeout", 30.0),
                         int(_number(s, "graph_retries", 3)),
                         _number(s, "graph_backoff", 2.0),
                         _number(s, "graph_max_wait", 120.0), s.m365_ca_file or None)


def m365_mailer(transport: str, s: Settings) -> Mailer:
    """The Microsoft 365 Mailer BRIEFING_MAIL_TRANSPORT names, every setting checked."""
    if transport == "graph":
        graph = graph_settings_for(s)
        creds = credentials_for(s, f"{graph.url}/.default", transport)
        return GraphMailer(graph, TokenSource(creds))
    stray = [n for n in ("USERNAME", "PASSWORD", "PASSWORD_BLOCK")
             if s.given("smtp_" + n.lower())]
    if stray:
        raise MailConfigError(f"{ENV_PREFIX}{stray[0]} is not used with BRIEFING_MAIL_TRANSPORT="
                              "smtp-oauth (the application signs in with a token); unset it")
    smtp = SmtpSettings.from_settings(s, default_host=SMTP_HOST)
    creds = credentials_for(s, SMTP_SCOPE, transport)
    return SmtpOAuthMailer(smtp, authenticate=XOAuth2(TokenSource(creds)))
