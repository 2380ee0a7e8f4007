"""``make audit`` (config/audit.py): what it scans and how an advisory is accepted. pip-audit itself needs
the advisory database online, so it is not run here."""

import datetime
import re

import pytest

from config.audit import ACCEPTED_FILE, REPO, REQUIREMENTS, AcceptedFileError, accepted_parse, audit_command

TODAY = datetime.date(2026, 6, 1)


def _values_of(command: list[str], option: str) -> list[str]:
    return [command[i + 1] for i, word in enumerate(command) if word == option]


def test_audit_scans_every_requirements_file_and_fails_on_what_it_cannot_audit():
    command = audit_command(accepted=[], today=TODAY)

    assert command[1:4] == ["-m", "pip_audit", "--strict"]
    reached, pending = set(), [REPO / name for name in REQUIREMENTS]
    while pending:
        path = pending.pop()
        reached.add(path)
        pending += [path.parent / name for name in re.findall(r"^-r\s+(\S+)", path.read_text(), re.MULTILINE)]
    assert [REPO / name for name in _values_of(command, "--requirement")] == [REPO / name for name in REQUIREMENTS]
    assert reached == set((REPO / "requirements").glob("*.txt"))


def test_accepted_advisories_are_ignored_until_they_lapse():
    accepted = accepted_parse(
        """
        [[accepted]]
        id = "GHSA-aaaa-bbbb-cccc"
        package = "django"
        reason = "No fixed release yet; the affected view is not routed."
        until = 2026-06-01

        [[accepted]]
        id = "PYSEC-2026-1"
        reason = "Only in the development requirements; never deployed."

        [[accepted]]
        id = "CVE-2026-0001"
        reason = "Accepted until the upgrade, which is overdue."
        until = 2026-05-31
        """
    )

    command = audit_command(accepted=accepted, today=TODAY)

    assert _values_of(command, "--ignore-vuln") == ["GHSA-aaaa-bbbb-cccc", "PYSEC-2026-1"]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ('id = "GHSA-aaaa-bbbb-cccc"', "accepted entry 1 needs both an id and a reason"),
        ('id = "GHSA-aaaa-bbbb-cccc"\nreason = "  "', "accepted entry 1 needs both an id and a reason"),
        ('reason = "We do not care."', "accepted entry 1 needs both an id and a reason"),
        ('id = "X-1"\nreason = "r"\n[[accepted]]\nid = "X-1"\nreason = "r"', "X-1 is accepted twice"),
        ('id = "X-1"\nreason = "r"\nuntil = "soon"', "X-1: until must be a date (YYYY-MM-DD)"),
    ],
    ids=["no-reason", "blank-reason", "no-id", "twice", "until-not-a-date"],
)
def test_an_acceptance_needs_an_id_a_reason_and_a_real_date(entries, message):
    with pytest.raises(AcceptedFileError) as refused:
        accepted_parse(f"[[accepted]]\n{entries}\n")

    assert str(refused.value) == message


def test_the_accepted_file_of_the_repository_is_valid():
    entries = accepted_parse((REPO / ACCEPTED_FILE).read_text())

    assert all(entry.id and entry.reason for entry in entries)


def test_make_audit_runs_it_and_ci_does_not():
    makefile = (REPO / "Makefile").read_text()
    ci_commands = [
        line for line in (REPO / ".ci" / "run").read_text().splitlines() if not line.lstrip().startswith("#")
    ]

    assert re.search(r"^audit: .*\n\t\$\(BIN\)/python -m config\.audit$", makefile, re.MULTILINE)
    assert "pip install --quiet -r requirements/audit.txt" in makefile
    assert not [line for line in ci_commands if "audit" in line]
