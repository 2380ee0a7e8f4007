"""Account emails, sent through Django's email API once the transaction that asked for them commits."""

import smtplib

import structlog
from django.conf import settings
from django.core.mail import send_mail

logger = structlog.get_logger("accounts")

PASSWORD_RESET_SUBJECT = "Reset your password"


def password_reset_email_send(*, to: str, uid: str, token: str) -> None:
    """Mail the reset token. A mail server that fails is logged, never answered to the caller
    (the answer to ``POST /auth/password-reset`` must not depend on whether the account exists)."""
    minutes = settings.PASSWORD_RESET_MINUTES
    if settings.PASSWORD_RESET_URL:
        how = f"Open this link to choose a new password:\n\n{settings.PASSWORD_RESET_URL.format(uid=uid, token=token)}"
    else:
        how = f"Send these to POST /auth/password-reset/confirm with your new password:\n\nuid: {uid}\ntoken: {token}"
    body = (
        "Someone (hopefully you) asked to reset the password of this account.\n\n"
        f"{how}\n\n"
        f"This works once, within {minutes} minutes. If you did not ask for it, ignore this email: "
        "your password stays as it is.\n"
    )
    try:
        send_mail(PASSWORD_RESET_SUBJECT, body, None, [to])
    except (smtplib.SMTPException, OSError):
        logger.exception("email_failed", to=to, template="password_reset")
        return
    logger.info("email_sent", to=to, template="password_reset")
