"""``make audit``: pip-audit over every requirements file, less the advisories accepted on purpose.

pip-audit resolves ``requirements/production.txt`` and ``requirements/audit.txt`` (which includes
``dev.txt``, which includes ``base.txt``) and looks every pinned and transitive package up in the
advisory database (PyPI's, which carries the OSV advisories); any known vulnerability fails it.
That needs the network, so ``.ci/run`` does not call it: run it before each release and in any CI
that has the network.

To accept an advisory (no fixed release yet, or the vulnerable code is never reached), add it to
``requirements/audit-accepted.toml`` with a reason and, preferably, a date after which the
acceptance lapses and the audit fails on it again::

    [[accepted]]
    id = "GHSA-xxxx-xxxx-xxxx"        # or PYSEC-..., CVE-...: the id pip-audit prints
    package = "somepackage"
    reason = "Only the XML export uses the affected parser, and it is disabled."
    until = 2027-01-31
"""

import datetime
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Between them they reach every requirements file through their ``-r`` lines.
REQUIREMENTS = ("requirements/production.txt", "requirements/audit.txt")
ACCEPTED_FILE = "requirements/audit-accepted.toml"


class AcceptedFileError(ValueError):
    """``audit-accepted.toml`` is malformed: an entry without an id or a reason, or an id twice."""


@dataclass(frozen=True)
class Accepted:
    id: str
    package: str
    reason: str
    until: datetime.date | None


def accepted_parse(text: str) -> list[Accepted]:
    """The entries of ``audit-accepted.toml``; every one needs an ``id`` and a ``reason``."""
    entries, seen = [], set()
    for number, raw in enumerate(tomllib.loads(text).get("accepted", []), start=1):
        advisory, reason = str(raw.get("id", "")).strip(), str(raw.get("reason", "")).strip()
        if not advisory or not reason:
            raise AcceptedFileError(f"accepted entry {number} needs both an id and a reason")
        if advisory in seen:
            raise AcceptedFileError(f"{advisory} is accepted twice")
        until = raw.get("until")
        if until is not None and not isinstance(until, datetime.date):
            raise AcceptedFileError(f"{advisory}: until must be a date (YYYY-MM-DD)")
        seen.add(advisory)
        entries.append(Accepted(advisory, str(raw.get("package", "")), reason, until))
    return entries


def audit_command(*, accepted: list[Accepted], today: datetime.date) -> list[str]:
    """pip-audit on the requirements files, ignoring the accepted advisories still in force."""
    command = [sys.executable, "-m", "pip_audit", "--strict", "--progress-spinner", "off"]
    for requirements in REQUIREMENTS:
        command += ["--requirement", str(REPO / requirements)]
    for entry in accepted:
        if entry.until is None or entry.until >= today:
            command += ["--ignore-vuln", entry.id]
    return command


def main() -> int:
    accepted = accepted_parse((REPO / ACCEPTED_FILE).read_text())
    today = datetime.date.today()
    for entry in accepted:
        lapsed = entry.until is not None and entry.until < today
        state = f"lapsed on {entry.until}" if lapsed else f"until {entry.until or 'further notice'}"
        sys.stdout.write(f"accepted {entry.id} ({entry.package or 'any package'}, {state}): {entry.reason}\n")
    return subprocess.run(audit_command(accepted=accepted, today=today), check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
