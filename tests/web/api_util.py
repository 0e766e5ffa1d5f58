"""Helpers of the API tests (tests/web/test_api*.py): real tokens from POST /api/v1/auth/token/ and clients sending
them, many findings for pagination. The `api` and `fresh_throttles` fixtures are in conftest.py."""

from __future__ import annotations

from rest_framework.test import APIClient

TOKEN_URL = "/api/v1/auth/token/"


def token_for(username: str, password: str) -> str:
    """The account's token (one per account), asserting the endpoint gave it."""
    r = APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")
    assert r.status_code == 200, r.content.decode()
    return r.json()["token"]


def token_client(token: str) -> APIClient:
    """An APIClient that sends `token` (Authorization: Token …)."""
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Token " + token)
    return c


def ids(response) -> set[int]:
    """The ids of a 200 page of results."""
    assert response.status_code == 200, response.content.decode()
    return {row["id"] for row in response.json()["results"]}


def many_findings(platform, n: int) -> None:
    """n more link.dead findings of unit A (its site) in the `platform` county's current round."""
    from govinspect.rounds.models import Finding, RoundSite

    cur = platform.rounds["current"]
    rs = RoundSite.objects.get(round=cur, website=platform.sites["a"])
    Finding.objects.bulk_create([Finding(round=cur, round_site=rs, job=rs.job, rule="link.dead", subject_kind="page",
                                         subject={"kind": "page"}, url=f"http://127.0.0.1:9/a/p{i}.html",
                                         detail=f"链接无法访问 {i}", fingerprint=f"fp{i:030d}", severity="medium",
                                         responsible_unit=platform.units["a"]) for i in range(n)])
