"""The project's documents stand on their own: every reference to the rules, the data
model or the legacy schema points at a file of this repository, and nothing points
outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("*.md", "*.py", "*.js", "*.mjs", "*.toml", "*.yml", "Dockerfile")
# A reference names one of these documents, with whatever path is written before it.
DOCUMENT = re.compile(r"[\w./-]*\b(RULES|DATA_MODEL|LEGACY_POSTGRES)\.md")
OUTSIDE = re.compile(r"\.\./shared|shared/(design|spec)/")


def scanned_files() -> list[Path]:
    files = {path for pattern in SCANNED for path in ROOT.rglob(pattern)}
    return sorted(p for p in files if not {".git", ".venv", "node_modules"} & set(p.relative_to(ROOT).parts))


def test_document_references_name_files_of_this_repository():
    wrong = []
    for path in scanned_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in DOCUMENT.finditer(line):
                reference = match.group(0)
                if reference != f"docs/{match.group(1)}.md":
                    wrong.append(f"{path.relative_to(ROOT)}:{number}: {reference}")
    assert wrong == []
    for name in ("RULES", "DATA_MODEL", "LEGACY_POSTGRES"):
        assert (ROOT / "docs" / f"{name}.md").is_file()


def test_nothing_points_outside_the_repository():
    outside = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in scanned_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line) and path.name != Path(__file__).name
    ]
    assert outside == []
