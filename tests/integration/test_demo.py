"""What `make demo` and the README tell a newcomer to try: every URL answers, on the data the demo syncs, as the demo
syncs it.

The demo itself serves until interrupted; this runs its machines (``demo_machines``) with its forecast clock
through moto's Step Functions interpreter and asks the API each URL ``example_urls`` prints.
"""

from __future__ import annotations

import re

import pytest
import requests

from iracing_sync_local.fake_iracing import SNAPSHOTS, FakeIracing
from iracing_sync_local.stack import demo_machines, example_urls
from iracing_sync_local.stepfunctions import LocalStepFunctions
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

README = REPO_ROOT / "README.md"


def test_every_url_the_demo_suggests_answers_on_the_demo_data(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, settings_env: pytest.MonkeyPatch, api: str
) -> None:
    # Given the bundled snapshot synced by the demo's machines, the forecast clock at its capture (as the demo sets)
    captured = SNAPSHOTS[fake_iracing.snapshot].captured_at
    assert captured is not None
    settings_env.setenv("FORECAST_NOW", captured)
    machines = demo_machines(fake_iracing.snapshot)
    assert machines[-1] == "sync_race_guide"  # the snapshot has its race guide: the demo reconciles it
    for name in machines:
        summary = step_functions.run(name, progress=False)
        assert summary["status"] == "SUCCEEDED" and summary["failed"] == [], (name, summary)
    # When each URL the demo prints is asked for
    answers = {url.removeprefix(api): requests.get(url, timeout=60) for _, url in example_urls(api)}
    # Then each answers 200, the page first
    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(answers, 200)
    assert next(iter(answers)).startswith("/#races") and "<html" in next(iter(answers.values())).text
    # And the JSON ones hold what they promise: the race guide's 133 sessions, a season grid, a purchase guide of the
    # two series asked for, a forecast by the hour
    body = {path: a.json() for path, a in answers.items() if a.headers["content-type"].startswith("application/json")}
    by_route = {path.split("?")[0]: value for path, value in body.items()}
    assert by_route["/slots"]["count"] == 133
    assert [s["series_id"] for s in by_route["/seasons"]["seasons"]] == [47]
    assert {s["series_id"] for s in by_route["/purchase-guide"]["series"]} == {47, 62}
    assert by_route["/seasons/5376/weeks/30/forecast"]["hours"]
    # And so does every URL of the demo the README shows
    readme = re.findall(r"(?:curl|open) '?http://127\.0\.0\.1:3000([^'\s]*)", README.read_text())
    assert len(readme) >= 5
    asked = {path: answers[path] if path in answers else requests.get(api + path, timeout=60) for path in readme}
    assert {path: a.status_code for path, a in asked.items()} == dict.fromkeys(readme, 200)
