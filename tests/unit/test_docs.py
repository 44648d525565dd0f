"""The clone explains itself: README.md and docs/ link only to what the repository holds, the README stays a front
door (short, the two commands first), and nothing refers to a design file outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
README_MAX_LINES = 250
README_COMMANDS_WITHIN = 40
# A design document outside the repository, as a clone would meet it (spelt in pieces, so this file is no hit).
OUTSIDE_REFERENCES = ("DESIGN" + ".md", "../" + "shared")
# The bundled samples' provenance names the third-party repositories it copied from: that is its job.
MAY_NAME_OUTSIDE = {"data/iracing-samples/SOURCES.md"}

# [text](target) and ![alt](target), the target up to a space (a title may follow) or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces as dashes."""
    found: set[str] = set()
    for line in FENCE.sub("", text).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).replace("`", "").lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in found:  # a repeated heading gets -1, -2...
            n += 1
            anchor = f"{slug}-{n}"
        found.add(anchor)
    return found


def broken_links(path: Path, root: Path = REPO_ROOT) -> list[str]:
    """Each relative link of a Markdown file whose file (or heading anchor) is not in ``root``, as ``target: why``."""
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(CODE_SPAN.sub("", FENCE.sub("", text))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:...
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif root.resolve() not in linked.parents and linked != root.resolve():
            broken.append(f"{target}: outside the repository")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading #{anchor}")
    return broken


def tracked_files() -> list[str]:
    """The repository's tracked files (git ls-files), relative to its root."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return [name for name in listed.split("\0") if name]


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_docs_every_relative_link_resolves_to_a_file_and_heading_of_the_repo(path: Path) -> None:
    assert broken_links(path) == []


def test_docs_a_broken_link_is_found(tmp_path: Path) -> None:
    # Given a page linking a missing file, a missing heading of a real page, a file outside its repository, and a
    # real heading, image and URL (and a link-like text in code, which is no link)
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "other.md").write_text("# The `iracing-sync` CLI\n\n## Edge cache (CloudFront)\n")
    (root / "docs" / "shot.png").write_bytes(b"")
    (tmp_path / "elsewhere.md").write_text("# outside\n")
    page = root / "docs" / "page.md"
    page.write_text(
        "[gone](missing.md) [bad](other.md#no-such-part) [ok](other.md#edge-cache-cloudfront)\n"
        "[ok](other.md#the-iracing-sync-cli) ![shot](shot.png) [web](https://example.com/x.md)\n"
        "[out](../../elsewhere.md) `[code](not-a-link.md)`\n"
    )
    # When its links are checked, Then exactly the three broken ones are reported
    assert broken_links(page, root) == [
        "missing.md: no such file",
        "other.md#no-such-part: no heading #no-such-part",
        "../../elsewhere.md: outside the repository",
    ]


def test_readme_is_a_front_door_with_the_two_commands_first() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES
    opening = "\n".join(lines[:README_COMMANDS_WITHIN])
    assert "make demo" in opening and "make test" in opening


def test_docs_the_pages_the_readme_promises_exist() -> None:
    names = {p.name for p in DOCS}
    assert {"architecture.md", "api.md", "operations.md", "benchmarks.md", "cost.md"} <= names


def test_no_tracked_file_refers_to_a_design_file_outside_the_repository() -> None:
    # Given every tracked file but the samples' provenance (binary files too: a reference is bytes either way)
    hits = []
    for name in tracked_files():
        if name in MAY_NAME_OUTSIDE:
            continue
        data = (REPO_ROOT / name).read_bytes() if (REPO_ROOT / name).is_file() else b""
        # Then none names the design file or the shared folder a clone does not have
        hits += [f"{name}: {ref}" for ref in OUTSIDE_REFERENCES if ref.encode() in data]
    assert hits == []


# A file path named in code spans of the docs: a top folder of the repository's, or a room of the layer or of the
# local stack (``store/seasons.py``), with a file extension; placeholders (``<room>``, ``*``) are patterns, not files,
# and what the tools make at run time (``.local/``, ``.aws-sam/``) is no file of a clone.
PATH_SPAN = re.compile(r"`(\w[\w./-]*/[\w.-]+\.(?:py|json|md|html|yaml|toml|png|txt))`")
PATH_ROOTS = ("", "layers/common/iracing_sync/", "local/iracing_sync_local/", "layers/common/")


def missing_paths(path: Path, root: Path = REPO_ROOT) -> list[str]:
    """The file paths a Markdown page names in code spans that are no file of ``root`` (tried from each path root)."""
    text = path.read_text(encoding="utf-8")
    names = sorted(set(PATH_SPAN.findall(text)))
    return [n for n in names if not any((root / base / n).exists() for base in PATH_ROOTS)]


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_docs_every_file_they_name_exists(path: Path) -> None:
    # A page naming a file that was moved or split sends its reader nowhere.
    assert missing_paths(path) == []


def test_docs_a_renamed_file_is_found(tmp_path: Path) -> None:
    # Given a page naming a file that exists, a room of the layer, a placeholder and a file that does not exist
    (tmp_path / "layers/common/iracing_sync/store").mkdir(parents=True)
    (tmp_path / "layers/common/iracing_sync/store/seasons.py").write_text("")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench/run.py").write_text("")
    page = tmp_path / "page.md"
    page.write_text("`bench/run.py`, `store/seasons.py`, `store/<room>.py`, `bench/bench_cost.py`\n")
    # Then only the missing one is reported
    assert missing_paths(page, tmp_path) == ["bench/bench_cost.py"]


SOURCE_MAX_LINES = 500
SOURCE_FOLDERS = ("layers/", "local/", "bench/")
SOURCE_SUFFIXES = (".py", ".js", ".css", ".html")


def test_no_source_file_of_the_layer_the_local_stack_or_the_bench_is_over_500_lines() -> None:
    # A file past this does several jobs: split it by job (the planner page is kept in parts for this)
    sources = [n for n in tracked_files() if n.startswith(SOURCE_FOLDERS) and n.endswith(SOURCE_SUFFIXES)]
    assert len(sources) > 80
    long = {n: count for n in sources if (count := len((REPO_ROOT / n).read_bytes().splitlines())) > SOURCE_MAX_LINES}
    assert long == {}
