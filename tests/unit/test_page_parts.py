"""The planner page is kept in parts (api/page) and served as one document: every part in, in order, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from iracing_sync.api.routes import page


def test_the_served_page_holds_the_style_and_every_script_part_in_file_name_order() -> None:
    html = page.page_html()
    parts = sorted(page.PAGE.glob("[0-9][0-9]-*.js"))
    assert len(parts) >= 5
    assert page.STYLE_MARK not in html and page.SCRIPT_MARK not in html
    assert (page.PAGE / "planner.css").read_text(encoding="utf-8").strip() in html
    where = [html.index(part.read_text(encoding="utf-8")) for part in parts]
    assert where == sorted(where)
    # One script element, its parts sharing one function scope
    assert html.count("<script>") == 1 and "(() => {\n" + parts[0].read_text(encoding="utf-8") in html


def test_a_page_folder_missing_its_mark_is_refused_at_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "index.html").write_text("<style>/* planner.css */</style><script></script>", encoding="utf-8")
    (tmp_path / "planner.css").write_text("body {}", encoding="utf-8")
    (tmp_path / "00-base.js").write_text("const a = 1;", encoding="utf-8")
    monkeypatch.setattr(page, "PAGE", tmp_path)
    page.page_html.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="each mark once"):
            page.page_html()
    finally:
        page.page_html.cache_clear()
