"""The HTTP API in template.yaml: explicit routes covering the contract, CORS and default throttling."""

from __future__ import annotations

from tests.support.template import (
    functions,
    props,
    resources,
    template,
)

API_ROUTES = {
    ("GET", "/slots"),
    ("GET", "/series"),
    ("GET", "/series/{id}"),
    ("GET", "/series/{id}/seasons"),
    ("GET", "/seasons/{id}"),
    ("GET", "/seasons/{id}/slots"),
    ("GET", "/series/{id}/next"),
    ("GET", "/series/{id}/calendar.ics"),
    ("GET", "/seasons/{id}/next"),
    ("GET", "/seasons/{id}/calendar.ics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/"),
    ("GET", "/cars"),
    ("GET", "/cars/{id}"),
    ("GET", "/tracks"),
    ("GET", "/tracks/{id}"),
    ("GET", "/car-classes"),
    ("GET", "/car-classes/{id}"),
    ("GET", "/calendar.ics"),
    ("GET", "/changes"),
    ("GET", "/changes.atom"),
    ("GET", "/seasons"),
    ("GET", "/purchase-guide"),
    ("GET", "/seasons/{id}/weeks/{week}/forecast"),
    # Every HEAD, answered as the GET of its path (tests/integration/test_api_head.py)
    ("HEAD", "/"),
    ("HEAD", "/{proxy+}"),
}


def test_http_api_routes_are_explicit_and_cover_the_contract() -> None:
    routes = set()
    for name in functions():
        for event in props(name).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                assert name == "SlotsApiFunction"
                assert event["Properties"]["ApiId"] == {"Ref": "SlotsHttpApi"}
                routes.add((event["Properties"]["Method"], event["Properties"]["Path"]))

    assert routes == API_ROUTES
    assert not any(method.upper() == "ANY" for method, path in routes)
    assert all(method == "HEAD" for method, path in routes if "proxy+" in path)


def test_http_api_cors_lets_any_listed_origin_read_and_revalidate() -> None:
    parameter = template()["Parameters"]["CorsAllowedOrigins"]
    assert parameter["Type"] == "CommaDelimitedList" and parameter["Default"] == "*"
    assert props("SlotsHttpApi")["CorsConfiguration"] == {
        "AllowOrigins": {"Ref": "CorsAllowedOrigins"},
        "AllowMethods": ["GET", "HEAD", "OPTIONS"],
        "AllowHeaders": ["if-none-match"],
        "ExposeHeaders": ["etag", "cache-control"],
        "MaxAge": 3600,
    }


def test_http_api_has_default_throttling() -> None:
    api = resources("AWS::Serverless::HttpApi")

    assert list(api) == ["SlotsHttpApi"]
    throttling = api["SlotsHttpApi"]["Properties"]["DefaultRouteSettings"]
    assert throttling["ThrottlingBurstLimit"] > 0 and throttling["ThrottlingRateLimit"] > 0
