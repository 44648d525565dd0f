"""The HTTP API's resolver and the one place errors become HTTP responses.

Routes (``api.routes.*``) register on ``app``; its middlewares refuse unknown query parameters
(``params.known_parameters``) and add the caching headers (``caching.http_caching``). Every error answer is
``{"error": {"code", "message"}}``: an AppError by its status and code, bad parameters 400, an unknown path 404,
an unavailable store 503.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from iracing_sync.api.caching import http_caching, serialize
from iracing_sync.api.openapi import finish_openapi
from iracing_sync.api.params import PATTERN_MEANS, known_parameters
from iracing_sync.errors import AppError, RetryableError
from iracing_sync.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
    from aws_lambda_powertools.utilities.typing import LambdaContext


class _Resolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver whose OpenAPI document states what this API really answers (api.openapi), and
    which answers HEAD as GET."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        return finish_openapi(super().get_openapi_schema(**kwargs))

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Answer one event; a HEAD (template.yaml routes every HEAD here) exactly as the GET of its path.

        The body stays in the answer: the gateway sends a HEAD's headers only, with the GET's Content-Length, and an
        edge cache that stores the answer stores all of it.
        """
        http = event.get("requestContext", {}).get("http", {})
        if http.get("method") == "HEAD":
            event = {**event, "requestContext": {**event["requestContext"], "http": {**http, "method": "GET"}}}
        return super().resolve(event, context)


app = _Resolver(enable_validation=True, serializer=serialize)
app.configure_openapi(
    title="iracing-sync",
    version="1.0.0",
    description="iRacing series, seasons and race time slots, computed from each week's schedule pattern. "
    'All times UTC unless a tz is given. Errors: {"error": {"code", "message"}}.',
)
app.use(middlewares=[known_parameters, http_caching])


def ok(shape: str, description: str) -> dict[int, OpenAPIResponse]:
    """A route's documented 200: the ``models.http`` shape named ``shape``, as JSON.

    By name, not by class: the document's builder (api.openapi) adds the shapes it names, so importing the routes
    loads no answer model (the slot routes and feeds write their answers as text and never need one).
    """
    schema = {"$ref": f"#/components/schemas/{shape}"}
    return {200: {"description": description, "content": {content_types.APPLICATION_JSON: {"schema": schema}}}}


def _error(status: int, code: str, message: str) -> Response[dict[str, Any]]:
    body = {"error": {"code": code, "message": message}}
    return Response(status, content_types.APPLICATION_JSON, body, headers={"Cache-Control": "no-store"})


@app.exception_handler(AppError)
def _app_error(exc: AppError) -> Response[dict[str, Any]]:
    logger.info("request refused", extra={"status": exc.status, "reason": exc.message})
    return _error(exc.status, exc.code, exc.message)


def _validation_message(error: dict[str, Any]) -> str:
    """One parameter's problem in words: a pattern is named by what it means, not shown as a regex."""
    # (a list parameter's value is named by the parameter, not by its index in the list)
    where = ".".join(str(p) for p in error.get("loc", ())[1:] if not isinstance(p, int)) or "request"
    hint = PATTERN_MEANS.get(str(error.get("ctx", {}).get("pattern")))
    if error.get("type") == "string_pattern_mismatch" and hint:
        return f"{where}: {error.get('input')!r} is not {hint}"
    return f"{where}: {error.get('msg')}"


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response[dict[str, Any]]:
    details = "; ".join(_validation_message(e) for e in exc.errors())
    return _error(400, "invalid_input", details or "invalid request")


@app.not_found
def _not_found(exc: Exception) -> Response[dict[str, Any]]:
    path, method = app.current_event.path, app.current_event.http_method
    # A path the API serves asked with another method is a 405 naming the methods it takes (RFC 9110 15.5.6).
    # (API Gateway routes only the declared GETs to the function; this answers wherever it is called directly.)
    if method != "GET" and any(
        r.rule.match(path) for r in app._static_routes + app._dynamic_routes if r.method == "GET"
    ):
        response = _error(405, "method_not_allowed", f"{method} {path}: this API answers GET (and HEAD) only")
        response.headers["Allow"] = "GET, HEAD"
        return response
    return _error(404, "not_found", f"no route {path}")


@app.exception_handler(RetryableError)
def _unavailable(exc: RetryableError) -> Response[dict[str, Any]]:
    logger.exception("backend unavailable")
    return _error(503, "unavailable", "the data store is unavailable, try again")
