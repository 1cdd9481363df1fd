"""Stand-ins for Microsoft 365 on 127.0.0.1 that speak the real protocols.

- `Identity`: the Microsoft identity platform's OpenID configuration and OAuth 2.0 token
  endpoint (client credentials, with a secret or a certificate's signed assertion), over
  HTTPS, since msal accepts only an https authority.
- `Graph`: `POST /v1.0/users/{sender}/sendMail` on the same HTTPS server, checking the
  bearer token, the JSON message and its base64 attachments; it can answer 429 with
  Retry-After, 401 for a token it has expired, or 503, as a script of faults says.
- `xoauth2_smtp`: an SMTP server (aiosmtpd, STARTTLS) that offers only AUTH XOAUTH2 and
  checks the bearer token and that the sender is the mailbox signed in as.

Nothing here is imported by the project: it is what the tests send to.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "66666666-7777-8888-9999-000000000000"
SECRET = "s3cr3t~Value.That-Must-Not-Leak"
SENDER = "performance@example.gov.uk"


@dataclass
class Identity:
    """What the token endpoint knows and has done."""

    scope: str
    certificate: bytes | None = None  # PEM: accept a client assertion signed by its key
    issued: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    refusals: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_all(self) -> None:
        with self.lock:
            self.valid.clear()

    def check(self, token: str) -> bool:
        with self.lock:
            return token in self.valid

    def issue(self, form: dict[str, str], token_url: str) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID:
            return 400, {"error": "unauthorized_client",
                         "error_description": "AADSTS700016: Application not found."}
        if form.get("scope") != self.scope:
            return 400, {"error": "invalid_scope",
                         "error_description": f"AADSTS1002012: scope {form.get('scope')!r}"}
        if not self._authenticated(form, token_url):
            self.refusals.append(form.get("client_id", ""))
            return 401, {"error": "invalid_client",
                         "error_description": "AADSTS7000215: Invalid client secret provided."}
        with self.lock:
            token = f"eyJ0.token-{len(self.issued) + 1}.{time.monotonic_ns()}"
            self.issued.append(token)
            self.valid.add(token)
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                     "access_token": token}

    def _authenticated(self, form: dict[str, str], token_url: str) -> bool:
        if self.certificate is None:
            return form.get("client_secret") == SECRET
        import jwt
        from cryptography import x509

        assertion = form.get("client_assertion", "")
        if form.get("client_assertion_type") != \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return False
        cert = x509.load_pem_x509_certificate(self.certificate)
        from cryptography.hazmat.primitives import hashes

        thumb = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA256())).rstrip(b"=")
        header = jwt.get_unverified_header(assertion)
        if header.get("x5t#S256", "").rstrip("=").encode() != thumb:
            return False
        try:
            claims = jwt.decode(assertion, cert.public_key(),  # type: ignore[arg-type]
                                algorithms=["PS256", "RS256"], audience=token_url)
        except jwt.PyJWTError:
            return False
        return bool(claims.get("iss") == claims.get("sub") == CLIENT_ID)


@dataclass
class Sent:
    sender: str
    message: dict[str, Any]
    attachments: dict[str, bytes]

    @property
    def to(self) -> list[str]:
        return [r["emailAddress"]["address"] for r in self.message["toRecipients"]]


@dataclass
class Graph:
    """sendMail's state: what arrived, every request's answer, and the faults to play."""

    identity: Identity
    faults: list[str] = field(default_factory=list)  # per request: ok|429|expire|503
    sent: list[Sent] = field(default_factory=list)
    log: list[tuple[float, int]] = field(default_factory=list)  # (time, status)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send_mail(self, sender: str, auth: str, body: bytes) -> tuple[int, dict[str, str],
                                                                       dict[str, Any] | None]:
        with self.lock:
            fault = self.faults.pop(0) if self.faults else "ok"
        if fault == "expire":
            self.identity.expire_all()
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or not self.identity.check(token):
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, {"error": {
                "code": "InvalidAuthenticationToken",
                "message": "Lifetime validation failed, the token is expired."}}
        if fault == "429":
            return 429, {"Retry-After": "1"}, {"error": {
                "code": "ApplicationThrottled", "message": "Too many requests."}}
        if fault == "503":
            return 503, {}, {"error": {"code": "ServiceUnavailable",
                                       "message": "The service is temporarily unavailable."}}
        if sender != SENDER:
            return 404, {}, {"error": {"code": "ErrorInvalidUser",
                                       "message": "The requested user is invalid."}}
        try:
            sent = self._check(sender, json.loads(body))
        except (ValueError, KeyError, TypeError, AssertionError) as exc:
            return 400, {}, {"error": {"code": "ErrorInvalidRequest", "message": repr(exc)}}
        with self.lock:
            self.sent.append(sent)
        return 202, {}, None

    @staticmethod
    def _check(sender: str, request: dict[str, Any]) -> Sent:
        """The request as Graph's sendMail reads it (the parts the briefing uses)."""
        msg = request["message"]
        assert set(request) <= {"message", "saveToSentItems"}
        assert isinstance(msg["subject"], str) and msg["subject"]
        assert msg["body"]["contentType"] in ("HTML", "Text") and msg["body"]["content"]
        for key in ("toRecipients", "ccRecipients", "bccRecipients", "replyTo"):
            for r in msg.get(key, []):
                assert "@" in r["emailAddress"]["address"]
        assert len(msg["toRecipients"]) >= 1
        for h in msg.get("internetMessageHeaders", []):
            assert h["name"].lower().startswith("x-"), h
        files = {}
        for a in msg.get("attachments", []):
            assert a["@odata.type"] == "#microsoft.graph.fileAttachment"
            assert a["name"] and a["contentType"]
            files[a["name"]] = base64.b64decode(a["contentBytes"], validate=True)
        return Sent(sender, msg, files)


def _handler(identity: Identity, graph: Graph | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: dict[str, Any] | None,
                    headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _base(self) -> str:
            host, port = self.server.server_address[:2]
            return f"https://{host}:{port}"

        def do_GET(self) -> None:
            path = urlparse(self.path).path
            if path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
                base = f"{self._base()}/{TENANT}"
                self._answer(200, {"issuer": f"{base}/v2.0",
                                   "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                   "token_endpoint": f"{base}/oauth2/v2.0/token",
                                   "jwks_uri": f"{base}/discovery/v2.0/keys"})
            else:
                self._answer(400, {"error": "invalid_tenant",
                                   "error_description": "AADSTS90002: Tenant not found."})

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if path == f"/{TENANT}/oauth2/v2.0/token":
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                status, answer = identity.issue(form, f"{self._base()}{path}")
                self._answer(status, answer)
                return
            parts = path.split("/")
            if graph is not None and len(parts) == 5 and parts[1:3] == ["v1.0", "users"] \
                    and parts[4] == "sendMail":
                status, headers, answer = graph.send_mail(
                    unquote(parts[3]), self.headers.get("Authorization", ""), body)
                with graph.lock:
                    graph.log.append((time.monotonic(), status))
                self._answer(status, answer, headers)
                return
            self._answer(404, {"error": {"code": "ResourceNotFound", "message": path}})

    return Handler


@contextmanager
def https_server(cert: tuple[Path, Path], identity: Identity,
                 graph: Graph | None = None) -> Iterator[str]:
    """The identity platform (and Graph) on 127.0.0.1 over TLS; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(identity, graph))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*cert)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class XOAuth2Inbox:
    """An SMTP handler that signs in only by XOAUTH2 with a token the identity platform
    issued, as the mailbox it names, and lets that mailbox alone send."""

    def __init__(self, identity: Identity, expire_at_auth: set[int] | None = None,
                 fail_data_at: set[int] | None = None) -> None:
        self.identity = identity
        self.expire_at_auth = expire_at_auth or set()  # the Nth AUTH finds tokens expired
        self.fail_data_at = fail_data_at or set()  # the Nth DATA is answered 451
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.auths: list[tuple[str, bool]] = []
        self.datas = 0
        self.lock = threading.Lock()

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        if len(args) < 2:  # no initial response: ask for it
            blob = await server.challenge_auth("")
            if not isinstance(blob, bytes):
                return AuthResult(success=False, handled=True)
        else:
            blob = base64.b64decode(args[1])
        fields = dict(f.split("=", 1) for f in blob.decode().split("\x01") if "=" in f)
        user, bearer = fields.get("user", ""), fields.get("auth", "")
        with self.lock:
            if len(self.auths) + 1 in self.expire_at_auth:
                self.identity.expire_all()
            ok = bearer.startswith("Bearer ") and self.identity.check(bearer[7:]) \
                and user == SENDER
            self.auths.append((user, ok))
        if not ok:
            return AuthResult(success=False, handled=False,
                              message="535 5.7.3 Authentication unsuccessful")
        return AuthResult(success=True, auth_data=user)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        if address != session.auth_data:
            return "550 5.7.60 SMTP; Client does not have permissions to send as this sender"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.datas += 1
            if self.datas in self.fail_data_at:
                return "451 4.3.0 Temporary server error. Please try again later"
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                  envelope.original_content))
        return "250 2.0.0 OK queued"


@contextmanager
def xoauth2_smtp(cert: tuple[Path, Path], inbox: XOAuth2Inbox) -> Iterator[int]:
    """The SMTP stand-in on 127.0.0.1: STARTTLS required, then AUTH XOAUTH2 only."""
    from tests.conftest import free_port

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*cert)
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=ctx,
                     require_starttls=True, auth_required=True,
                     auth_exclude_mechanism=["LOGIN", "PLAIN"])
    ctl.start()
    try:
        yield port
    finally:
        ctl.stop()



def main() -> None:
    """`.venv/bin/python -m tests.m365_standins`: both stand-ins on 127.0.0.1 until Ctrl-C,
    printing the settings that point the briefing at them and each message they receive."""
    import tempfile

    from tests.tls import make_cert

    with tempfile.TemporaryDirectory() as tmp:
        cert = make_cert(Path(tmp))
        identity = Identity(scope="")
        graph = Graph(identity)
        inbox = XOAuth2Inbox(identity)
        with https_server(cert, identity, graph) as base, xoauth2_smtp(cert, inbox) as port:
            identity.scope = f"{base}/.default"
            common = (f"BRIEFING_M365_TENANT_ID={TENANT} BRIEFING_M365_CLIENT_ID={CLIENT_ID} "
                      f"BRIEFING_M365_CLIENT_SECRET='{SECRET}' "
                      f"BRIEFING_M365_AUTHORITY_HOST={base} BRIEFING_M365_CA_FILE={cert[0]}")
            print("Microsoft 365 stand-ins on 127.0.0.1 (Ctrl-C to stop). In another shell:\n")
            print(f"Graph:\n  env BRIEFING_MAIL_TRANSPORT=graph {common} "
                  f"BRIEFING_GRAPH_URL={base} .venv/bin/briefing demo --send\n")
            print(f"SMTP AUTH XOAUTH2 (the token's scope is Graph's here; Exchange's is "
                  f"https://outlook.office365.com/.default):\n  env "
                  f"BRIEFING_MAIL_TRANSPORT=smtp-oauth {common} BRIEFING_M365_SCOPE="
                  f"{base}/.default BRIEFING_SMTP_HOST=127.0.0.1 BRIEFING_SMTP_PORT={port} "
                  f"BRIEFING_SMTP_CA_FILE={cert[0]} .venv/bin/briefing demo --send --resend\n",
                  flush=True)
            seen_graph = seen_smtp = 0
            try:
                while True:
                    time.sleep(0.5)
                    for s in graph.sent[seen_graph:]:
                        print(f"graph sendMail from {s.sender} to {', '.join(s.to)}: "
                              f"{s.message['subject']} ({', '.join(s.attachments)})",
                              flush=True)
                    for sender, tos, _ in inbox.messages[seen_smtp:]:
                        print(f"smtp XOAUTH2 from {sender} to {', '.join(tos)}", flush=True)
                    seen_graph, seen_smtp = len(graph.sent), len(inbox.messages)
            except KeyboardInterrupt:
                pass


if __name__ == "__main__":
    main()
