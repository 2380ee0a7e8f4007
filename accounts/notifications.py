"""Account emails, sent through Django's email API once the transaction that asked for them commits.

They are sent off the request thread (``in_background``), so no answer waits for the mail server: the
answer to ``POST /auth/password-reset`` takes as long whether or not the account exists.
"""

import contextvars
import smtplib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import structlog
from django.conf import settings
from django.core.mail import send_mail

logger = structlog.get_logger("accounts")

PASSWORD_RESET_SUBJECT = "Reset your password"
# Its threads start with the first job, in the serving process (after gunicorn forked it).
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="accounts-mail")


def _job_done(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("background_job_failed", exc_info=future.exception())


def in_background(job: Callable[..., None], /, **kwargs: object) -> None:
    """Run ``job(**kwargs)`` on a worker thread, with the caller's log context (request id); call it from
    ``transaction.on_commit``. Jobs must not use the database. With ``EMAIL_IN_BACKGROUND`` off (test
    settings) the job runs here and now. A worker process that exits normally runs the queued jobs first.
    """
    if not settings.EMAIL_IN_BACKGROUND:
        job(**kwargs)
        return
    context = contextvars.copy_context()
    _executor.submit(context.run, job, **kwargs).add_done_callback(_job_done)


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


def password_reset_unknown_log(*, to: str, uid: str, token: str) -> None:
    """The job for an email no active account has: nothing is sent, the attempt is logged."""
    logger.info("password_reset_unknown_email")
