"""The edge cache (CloudFront in front of the HTTP API) against what the API's caching rules need.

Static checks of template.yaml and samconfig.toml (no sockets, no AWS): the distribution exists only with
EdgeCache=on (prod), its cache key holds every query string, its TTLs defer to the API's Cache-Control, and it
forwards what CORS and ETag revalidation need.
"""

from __future__ import annotations

import tomllib
from typing import Any

from iracing_sync.api import caching
from iracing_sync.settings import Settings
from tests.support.template import REPO_ROOT, props, ref_target, resources, sub_string, template

# AWS's managed origin request policy "CORS-S3Origin": Origin, Access-Control-Request-Method, -Headers.
CORS_S3_ORIGIN = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"


def cache_key() -> dict[str, Any]:
    return props("EdgeCachePolicy")["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]


def behavior() -> dict[str, Any]:
    return props("EdgeDistribution")["DistributionConfig"]["DefaultCacheBehavior"]


def test_edge_cache_is_a_parameter_off_by_default_and_on_only_in_the_prod_edge_profile() -> None:
    parameter = template()["Parameters"]["EdgeCache"]
    assert parameter["AllowedValues"] == ["on", "off"] and parameter["Default"] == "off"
    assert template()["Conditions"]["EdgeCacheOn"] == {"Fn::Equals": [{"Ref": "EdgeCache"}, "on"]}
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    # A new account cannot create a distribution until AWS Support verifies it: prod deploys without one, and
    # prod-edge (the same stack) is what docs/operations.md's CloudFront step deploys once it can.
    for env in ("default", "dev", "prod", "prod-edge"):
        overrides = config[env]["deploy"]["parameters"]["parameter_overrides"].split()
        assert ("EdgeCache=on" in overrides) == (env == "prod-edge"), env
    prod, edge = config["prod"]["deploy"]["parameters"], config["prod-edge"]["deploy"]["parameters"]
    assert {k: v for k, v in edge.items() if k != "parameter_overrides"} == {
        k: v for k, v in prod.items() if k != "parameter_overrides"
    }
    assert edge["parameter_overrides"].split() == [*prod["parameter_overrides"].split(), "EdgeCache=on"]


def test_edge_resources_and_their_url_exist_only_with_the_edge_cache_on() -> None:
    edge = {name: r for name, r in template()["Resources"].items() if r["Type"].startswith("AWS::CloudFront::")}
    assert set(edge) == {"EdgeCachePolicy", "EdgeDistribution"}
    assert all(r["Condition"] == "EdgeCacheOn" for r in edge.values())
    output = template()["Outputs"]["EdgeUrl"]
    assert output["Condition"] == "EdgeCacheOn"
    assert sub_string(output["Value"]) == "https://${EdgeDistribution.DomainName}/"


def test_edge_cache_key_is_the_path_every_query_string_and_origin_only() -> None:
    key = cache_key()
    # Every window and filter of /slots is its own answer: all query strings, repeated keys included.
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    # Origin alone: API Gateway adds CORS headers only when a request carries it. No cookies: CloudFront makes no
    # conditional (If-None-Match) requests to an origin it forwards cookies to.
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Origin"]}
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["EnableAcceptEncodingGzip"] is True and key["EnableAcceptEncodingBrotli"] is True
    assert ref_target(behavior()["CachePolicyId"]) == "EdgeCachePolicy"


def test_edge_ttls_defer_to_the_apis_cache_control() -> None:
    config = props("EdgeCachePolicy")["CachePolicyConfig"]
    # Nothing is kept longer or shorter than the API says; an answer without max-age (no-store) is not kept.
    assert config["MinTTL"] == 0 and config["DefaultTTL"] == 0
    longest = max(
        caching.STATIC_SECONDS,
        caching.FEED_SECONDS,
        caching.NOW_RELATIVE_SECONDS,
        Settings._field_defaults["api_cache_seconds"],
    )
    assert config["MaxTTL"] >= longest


def test_edge_distribution_serves_the_http_api_over_https_compressed() -> None:
    config = props("EdgeDistribution")["DistributionConfig"]
    [origin] = config["Origins"]
    assert sub_string(origin["DomainName"]) == "${SlotsHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    rule = behavior()
    assert rule["TargetOriginId"] == origin["Id"]
    assert rule["ViewerProtocolPolicy"] == "redirect-to-https"
    assert rule["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"] and rule["CachedMethods"] == ["GET", "HEAD"]
    assert rule["Compress"] is True
    # A preflight's Access-Control-Request-* reach the API; Host stays the API's own domain.
    assert rule["OriginRequestPolicyId"] == CORS_S3_ORIGIN
    assert config["HttpVersion"] == "http2and3" and config["PriceClass"] == "PriceClass_100"
    assert list(resources("AWS::CloudFront::Distribution")) == ["EdgeDistribution"]
