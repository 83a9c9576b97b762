"""The ```python blocks of README.md and docs/*.md, for the tests that run them as written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]

# A block opts out of being run only with this marker and a reason, on its first line:
#     # not run: <why>
SKIP_MARKER = re.compile(r"^#\s*not run:\s*(?P<reason>\S.*)$")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int       # 1-based line of the opening fence
    heading: str    # the nearest "#" heading above it
    code: str

    @property
    def skip_reason(self) -> str | None:
        first = self.code.lstrip().splitlines()[0] if self.code.strip() else ""
        m = SKIP_MARKER.match(first.strip())
        return m["reason"] if m else None


def python_blocks(path: Path) -> list[Block]:
    """Every fenced ```python block of a Markdown file, in order, dedented to its fence."""
    blocks, heading, lines = [], "", path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("#"):
            heading = lines[i].lstrip("#").strip()
        m = _FENCE.match(lines[i])
        if m:  # any fence, so that "# comments" inside blocks are not taken for headings
            start, indent, body = i, len(m["indent"]), []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i][indent:])
                i += 1
            if m["lang"] == "python":
                blocks.append(Block(path, start + 1, heading, "\n".join(body) + "\n"))
        i += 1
    return blocks


def block_under(path: Path, heading: str) -> Block:
    """The first python block under the heading ``heading``."""
    found = [b for b in python_blocks(path) if b.heading == heading]
    if not found:
        raise LookupError(f"no ```python block under '{heading}' in {path.name}")
    return found[0]
