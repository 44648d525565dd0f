"""Debian's Chromium for the browser tests: where it is, and the flags that make it a quiet, offline headless run."""

from __future__ import annotations

import shutil

# Both from PATH (Debian's chromium and chromium-driver put them in /usr/bin): a test run without them on PATH skips
# their tests, which fails a CI run (tests/conftest.py).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# No sandbox: CI runs as root in a container. The rest keeps Chromium from calling home (updates, sync, first-run
# pages), so a test sees only the requests its page makes.
QUIET_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
