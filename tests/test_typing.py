"""Types are checked, not only claimed: mypy runs from ``make test`` over src/impact (see the Makefile),
and every ``# type: ignore`` says why on its own line (oracle: the rule itself)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "impact"
IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?(?P<rest>.*)$")


def test_every_type_ignore_has_a_code_and_a_reason():
    bare = []
    for path in sorted(SRC.rglob("*.py")):
        for no, line in enumerate(path.read_text().splitlines(), 1):
            m = IGNORE.search(line)
            if m and (not m.group(1) or not re.match(r"\s*#\s*\S", m.group("rest"))):
                bare.append(f"{path.relative_to(SRC)}:{no}: {line.strip()}")
    assert not bare, "type: ignore without an error code and a '# reason':\n" + "\n".join(bare)


def test_the_package_says_it_is_typed():
    assert (SRC / "py.typed").exists()
