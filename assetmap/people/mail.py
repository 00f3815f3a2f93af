"""Sending e-mail through the configured SMTP server (only when one is configured)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def smtp_configured(config) -> bool:
    return bool(config.get("ASSETMAP_SMTP_HOST"))


def send(config, to: str, subject: str, body: str) -> None:
    """Send a plain-text message; raises OSError or smtplib.SMTPException on failure.

    `config` is the app's, holding the settings' typed values (a port number, yes as True).
    """
    message = EmailMessage()
    sender = config["ASSETMAP_MAIL_FROM"]
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    # RFC 5322 asks for both; mail without them is often marked as spam, and a reminder that
    # lands in a spam folder is a listing nobody checks.
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    host, port = config["ASSETMAP_SMTP_HOST"], config["ASSETMAP_SMTP_PORT"]
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        if config["ASSETMAP_SMTP_STARTTLS"]:
            smtp.starttls()
        if config.get("ASSETMAP_SMTP_USER"):
            smtp.login(config["ASSETMAP_SMTP_USER"], config["ASSETMAP_SMTP_PASSWORD"])
        smtp.send_message(message)


def join_request_body(asset: dict, request: dict, inbox_hint: str) -> str:
    """What the organiser reads: who wants to join what, and how to reach them."""
    lines = [
        f"Someone has asked to join {asset['name']} through the community directory.",
        "",
        f"Name: {request['name']}",
    ]
    if request.get("phone"):
        lines.append(f"Phone: {request['phone']}")
    if request.get("email"):
        lines.append(f"Email: {request['email']}")
    lines.append(f"Best time to contact: {request['best_time']}")
    if request.get("message"):
        lines += ["", "Their message:", request["message"]]
    lines += [
        "",
        "They agreed that we pass these details to you so that you can contact them.",
        "Please get in touch with them, and delete this e-mail once you have.",
        inbox_hint,
    ]
    return "\n".join(lines)
