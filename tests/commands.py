"""Running management commands in tests and reading what they print."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def command_output(*args: str) -> str:
    """What ``manage.py <args>`` prints to stdout."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def command_failure(*args: str) -> tuple[str, str]:
    """(stdout, error message) of a command that must fail with a ``CommandError``."""
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(*args, stdout=out)
    return out.getvalue(), str(excinfo.value)
