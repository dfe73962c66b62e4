"""A real SMTP server for the tests (aiosmtpd on a loopback port): STARTTLS or implicit TLS with a
throw-away CA, AUTH with one user, every message kept."""

from __future__ import annotations

import email
import ssl
import threading
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hubsense.services import free_port
from tests.security.pki import Pki

USER, PASSWORD = "hubsense-alerts", "s3cret-for-the-test-only"


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: Message
    user: str | None

    @property
    def subject(self) -> str:
        return str(email.header.make_header(email.header.decode_header(self.message["Subject"])))

    @property
    def body(self) -> str:
        text = self.message.get_payload(decode=True).decode(self.message.get_content_charset() or "utf-8")
        return text.replace("\r\n", "\n")  # SMTP line ends


@dataclass
class SmtpServer:
    pki: Pki
    implicit_tls: bool = False
    port: int = field(default_factory=free_port)
    mails: list[Mail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> SmtpServer:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):
                msg = email.message_from_bytes(envelope.original_content or envelope.content)
                user = session.auth_data.login.decode() if session.auth_data else None
                with server._lock:
                    server.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), msg, user))
                return "250 OK"

        def authenticator(smtp, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
                USER.encode(), PASSWORD.encode())
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        options = dict(hostname="127.0.0.1", port=self.port, authenticator=authenticator, auth_required=True)
        if self.implicit_tls:
            options |= dict(ssl_context=ctx, auth_require_tls=False)
        else:
            options |= dict(tls_context=ctx, require_starttls=True)
        self._controller = Controller(Handler(), **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def received(self) -> list[Mail]:
        with self._lock:
            return list(self.mails)
