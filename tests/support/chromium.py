"""Debian's Chromium for the browser tests: where it is, and the flags that make it a quiet, offline headless run."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
)
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
