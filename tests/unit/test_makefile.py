"""The Makefile: every target a person may run is listed by ``make help`` with what it does."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

MAKEFILE = (REPO_ROOT / "Makefile").read_text()
# The pattern make help greps for: a target name, its prerequisites, then "## description".
HELP_LINE = re.compile(r"^([a-z0-9-]+):.*## \S", re.MULTILINE)


def test_every_phony_target_is_defined_with_a_help_description() -> None:
    (phony,) = re.findall(r"^\.PHONY: (.+)$", MAKEFILE, re.MULTILINE)
    described = set(HELP_LINE.findall(MAKEFILE))
    assert set(phony.split()) == described


def test_every_plain_target_has_a_help_description() -> None:
    # Targets named by a path or a variable ($(VENV)/.synced, $(SAM)) are files, not commands
    targets = set(re.findall(r"^([a-z0-9-]+):(?!=)", MAKEFILE, re.MULTILINE))
    assert targets and targets == set(HELP_LINE.findall(MAKEFILE))
