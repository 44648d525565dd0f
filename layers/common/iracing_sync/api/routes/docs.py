"""GET /openapi.json and /docs (Swagger UI): this API described by itself."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import aws_lambda_powertools.event_handler
from aws_lambda_powertools.event_handler import Response, content_types

from iracing_sync.api.resolver import app


@app.get("/openapi.json")
def get_openapi() -> Response[str]:
    """This API's OpenAPI document."""
    return Response(200, content_types.APPLICATION_JSON, openapi_json())


@cache
def openapi_json() -> str:
    """The OpenAPI document (built once per process: the routes never change while it runs)."""
    return app.get_openapi_json_schema()


@app.get("/docs", include_in_schema=False)
def get_docs() -> Response[str]:
    """Swagger UI over this API's OpenAPI document."""
    return Response(200, content_types.TEXT_HTML, swagger_html())


@cache
def swagger_html() -> str:
    """Powertools' Swagger UI page, script and style inlined (so it needs nothing but this API)."""
    # Not app.enable_swagger(): it would import the OpenAPI models on every cold start, not only for this page.
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    bundled = Path(aws_lambda_powertools.event_handler.__file__).parent / "openapi" / "swagger_ui"
    script = (bundled / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (bundled / "swagger-ui.min.css").read_text(encoding="utf-8")
    # "</" escaped so the document inlined in a <script> can never close it.
    return generate_swagger_html(openapi_json().replace("</", "<\\/"), script, style, "", None)
