"""E-mail over SMTP (host, port, sender, TLS and login from the LMS settings)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from .settings import Settings


class MailNotSent(Exception):
    """The server did not take the message (connection, login or a refusal): safe to try again."""


class MailUncertain(Exception):
    """The connection broke while the message was being handed over: it may or may not have been taken."""


def _header_safe(text: str, limit: int = 200) -> str:
    """A header value on one line (no CR/LF or other controls a title could smuggle in)."""
    return "".join(ch if ch.isprintable() else " " for ch in text)[:limit]


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Mailer:
    settings: Settings

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    def message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr(("Practicum LMS", self.settings.smtp_from))
        message["To"] = _header_safe(mail.to, 320)
        message["Subject"] = _header_safe(mail.subject)
        message["Message-ID"] = make_msgid(domain=self.settings.smtp_from.rpartition("@")[2] or "localhost")
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to reminders
        message.set_content(mail.body)
        return message

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.smtp_tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                                    context=context)
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        client.ehlo()
        if s.smtp_tls == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if s.smtp_username:
            client.login(s.smtp_username, s.smtp_password)
        return client

    def send(self, mails: list[Mail]) -> list[Exception | None]:
        """Send each mail on one connection; per mail None (taken), MailNotSent or MailUncertain."""
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            return [MailNotSent(f"cannot reach the SMTP server: {type(exc).__name__}") for _ in mails]
        outcomes: list[Exception | None] = []
        try:
            for mail in mails:
                outcomes.append(self._send_one(client, mail))
                if isinstance(outcomes[-1], MailUncertain):  # the connection is gone: the rest were not sent
                    outcomes += [MailNotSent("the connection broke before this one") for _ in mails[len(outcomes):]]
                    break
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        return outcomes

    def _send_one(self, client: smtplib.SMTP, mail: Mail) -> Exception | None:
        try:
            client.send_message(self.message(mail))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return MailNotSent(f"refused by the SMTP server: {type(exc).__name__}")
        except (OSError, smtplib.SMTPException) as exc:
            return MailUncertain(f"connection lost while sending: {type(exc).__name__}")
        return None
