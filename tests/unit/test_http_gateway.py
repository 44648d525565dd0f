"""The local gateway's route selection, template reading and answer mapping, without sockets.

Route selection follows API Gateway's documented order for HTTP APIs: a full match of path and method first
(a literal segment beating a path variable), then a greedy ``{proxy+}`` route, then ``$default``; ANY matches
a method no route of that path declares.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from iracing_sync_local.http_server import HttpApiGateway, Router, function_answer
from iracing_sync_local.template import CorsConfiguration, Route, cors_configuration, load_template

ROUTES = [
    Route("GET", "/pets/dog/1"),
    Route("GET", "/pets/dog/{id}"),
    Route("GET", "/pets/{proxy+}"),
    Route("ANY", "/{proxy+}"),
]


@pytest.mark.parametrize(
    ("method", "path", "key", "parameters"),
    [
        # AWS's own example of route evaluation (developer guide, "Routing API requests")
        ("GET", "/pets/dog/1", "GET /pets/dog/1", {}),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}", {"id": "2"}),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}", {"proxy": "cat/1"}),
        ("POST", "/pets/dog/1", "ANY /{proxy+}", {"proxy": "pets/dog/1"}),
        ("GET", "/pets/dog/a%20b", "GET /pets/dog/{id}", {"id": "a b"}),
    ],
)
def test_router_picks_the_most_specific_route(method: str, path: str, key: str, parameters: dict[str, str]) -> None:
    match = Router(ROUTES).match(method, path)
    assert match is not None
    assert (match.route.key, match.path_parameters) == (key, parameters)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/series/"), ("GET", "/series/1/2"), ("HEAD", "/series/1"), ("POST", "/series/1"), ("GET", "/")],
)
def test_router_without_a_fitting_route_matches_nothing(method: str, path: str) -> None:
    assert Router([Route("GET", "/series/{id}"), Route("GET", "/series")]).match(method, path) is None


def test_router_default_route_catches_what_no_route_matches() -> None:
    match = Router([Route("GET", "/series"), Route("ANY", "$default")]).match("DELETE", "/anything")
    assert match is not None and match.route.key == "$default" and match.path_parameters == {}


def test_router_greedy_variable_needs_a_segment() -> None:
    assert Router([Route("GET", "/files/{proxy+}")]).match("GET", "/files/") is None


def test_template_routes_and_cors_read_as_api_gateway_builds_them(tmp_path: Path) -> None:
    # Given a template with a parameterised CorsConfiguration and lower-case methods, as SAM allows
    template = tmp_path / "template.yaml"
    template.write_text(
        """
Parameters:
  Origins: {Type: CommaDelimitedList, Default: "https://a.example, https://b.example"}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: !Ref Origins
        AllowMethods: [get]
        MaxAge: 60
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        One:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: get, Path: "/one/{id}"}
        Any:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: $default}
        Other:
          Type: Schedule
          Properties: {Schedule: rate(1 hour)}
"""
    )
    loaded = load_template(template)
    # Then the parameter's default is split, and an override replaces it
    assert cors_configuration(loaded, "Fn") == CorsConfiguration(
        allow_origins=("https://a.example", "https://b.example"), allow_methods=("GET",), max_age=60
    )
    assert cors_configuration(loaded, "Fn", origins=["https://c.example"]).allow_origins == ("https://c.example",)  # type: ignore[union-attr]
    # And the events give their routes, SAM's default method being ANY
    gateway = HttpApiGateway(
        lambda e, c: {"statusCode": 200, "body": e["routeKey"]}, lambda: None, template=template, function="Fn"
    )
    assert gateway.answer("GET", "/one/5", {}).body == b"GET /one/{id}"
    assert gateway.answer("PUT", "/two", {}).body == b"$default"


def test_template_without_cors_configuration_adds_no_cors(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n"
        "        One: {Type: HttpApi, Properties: {Method: GET, Path: /one}}\n"
    )
    gateway = HttpApiGateway(lambda e, c: {"statusCode": 200}, lambda: None, template=template, function="Fn")
    preflight = gateway.answer(
        "OPTIONS", "/one", {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}
    )
    assert gateway.cors is None and preflight.status == 404  # no CorsConfiguration: a preflight is just a request


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        # Format 2.0 infers a response from a bare JSON result
        ({"message": "hi"}, 200, [("Content-Type", "application/json")], b'{"message":"hi"}'),
        ("text", 200, [("Content-Type", "application/json")], b'"text"'),
        (
            {"statusCode": 201, "headers": {"X-A": "1"}, "cookies": ["c=1"], "body": "ok"},
            201,
            [("X-A", "1"), ("Set-Cookie", "c=1")],
            b"ok",
        ),
        (
            {"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(b"\x00\xff").decode()},
            200,
            [],
            b"\x00\xff",
        ),
        ({"statusCode": 200, "multiValueHeaders": {"X-B": ["1", "2"]}}, 200, [], b""),  # no part of format 2.0
        ({"statusCode": "teapot"}, 500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}'),
    ],
)
def test_function_answer_maps_a_format_2_0_result(
    result: Any, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    answer = function_answer(result)
    assert (answer.status, answer.headers, answer.body) == (status, headers, body)
