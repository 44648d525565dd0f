"""axe-core, the accessibility engine the browser tests inject into the page: the npm package, pinned, fetched by npm
into .local/tools the way DynamoDB Local is (``make bootstrap`` fetches it, so parallel test workers never race).

``python -m tests.support.axe_core`` installs it and prints where its script is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from iracing_sync_local import TOOLS_DIR as _TOOLS

VERSION = "4.14.1"
NPM_PACKAGE = f"axe-core@{VERSION}"
TOOLS_DIR = _TOOLS / f"axe-core-{VERSION}"  # one folder per version: a bump fetches the new one
# What the tests fail on: WCAG A and AA rules (2.0 to 2.2) and axe's best practices, at these impacts.
FAILING_IMPACTS = ("serious", "critical")


def axe_script(tools_dir: Path = TOOLS_DIR) -> Path:
    """axe.min.js of the pinned package, fetching the package first if it is not there."""
    script = tools_dir / "package" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed to fetch {NPM_PACKAGE} for the browser tests' accessibility check")
    tools_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tools_dir.parent) as tmp:
        # `npm pack` only downloads the tarball: no install scripts, no node_modules.
        subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        (tarball,) = Path(tmp).glob("*.tgz")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")
        if not script.exists():  # another process may have finished first: its copy is the same package
            unpacked.rename(tools_dir)
    return script


@cache
def axe_source() -> str:
    """The script's text, to inject into a page under test."""
    return axe_script().read_text(encoding="utf-8")


def axe_violations(driver: Any, impacts: tuple[str, ...] = FAILING_IMPACTS) -> list[dict[str, Any]]:
    """axe-core's violations of the page in ``driver`` at ``impacts``: rule, impact, help and the first targets."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',"
        " 'best-practice']}, resultTypes: ['violations']})"
        ".then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))}), e => done({error: String(e)}));"
    )
    assert "error" not in result, result
    return [v for v in result["violations"] if v["impact"] in impacts]


if __name__ == "__main__":
    print(axe_script(), file=sys.stderr)
