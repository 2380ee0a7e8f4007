"""The README's Security section names the tests that prove each claim: they must exist."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(::[\w\[\]-]+)?`")


def security_references() -> list[tuple[str, str | None]]:
    """(file, test name or None) for every test the Security section cites; ``::name`` alone means the last file."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Security") : readme.index("\n## ", readme.index("## Security") + 1)]
    references, last = [], None
    for match in REFERENCE.finditer(section):
        path, name = match.groups()
        if path is None and name is None:
            continue
        last = path or last
        references.append((last, name[2:].split("[")[0] if name else None))
    return references


def test_security_section_cites_tests_that_exist():
    references = security_references()
    missing = [
        f"{path}::{name}" if name else path
        for path, name in references
        if not (REPO / path).exists() or (name and not re.search(rf"def {name}\(", (REPO / path).read_text()))
    ]

    assert len(references) > 40
    assert missing == []
