"""How an Authorization header is read, and what a request without a principal is told.

No database: the shape of a header decides missing, unsupported and malformed; whether a key
of the right shape opens anything is the database's (tests/database/test_auth.py)."""

from __future__ import annotations

import pytest

from wellapi.http.keys import ParsedKey, hash_secret, read_credentials
from wellapi.http.principal import no_principal
from wellapi.http.response import error_response

PREFIX, SECRET = "abcdefghijkl", "S" * 43
KEY = f"wk_{PREFIX}_{SECRET}"


@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {KEY}",
        f"bearer {KEY}",
        f"  BEARER   {KEY} ",
        f'Token token="{KEY}"',
        f"Token token={KEY}",
        # The key alone after the scheme: a key holds no "=", so it is no other parameter.
        f"Token {KEY}",
        f'token TOKEN = "{KEY}"',
    ],
)
def test_bearer_and_rails_token_headers_hold_the_same_key(header):
    assert read_credentials(header) == ParsedKey(PREFIX, hash_secret(SECRET))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        (" \t ", "missing"),
        ("Basic dXNlcjpwYXNz", "unsupported"),
        ("Negotiate abc", "unsupported"),
        (KEY, "unsupported"),  # a key with no scheme: the scheme read is the key
        ("Bearer", "malformed"),
        ("Bearer hello", "malformed"),
        ("Bearer wk_nope_xxx", "malformed"),
        (f"Bearer {KEY} {KEY}", "malformed"),
        (f"Bearer {KEY[:-1]}", "malformed"),
        ("Token", "malformed"),
        (f'Token token="{KEY}", nonce="n"', "malformed"),
        (f'Token token="{KEY}', "malformed"),
        (f'Token token="\\{KEY}"', "malformed"),
        (f'Token key="{KEY}"', "malformed"),
    ],
)
def test_a_header_without_a_key_says_why(header, reason):
    assert read_credentials(header) == reason


@pytest.mark.parametrize(
    ("claims", "code", "challenge"),
    [
        (None, "CREDENTIALS_MISSING", 'Bearer realm="wellapi"'),
        ({}, "CREDENTIALS_MISSING", 'Bearer realm="wellapi"'),
        ({"credentials": "missing"}, "CREDENTIALS_MISSING", 'Bearer realm="wellapi"'),
        ({"credentials": "unsupported"}, "CREDENTIALS_MISSING", 'Bearer realm="wellapi"'),
        (
            {"credentials": "malformed"},
            "CREDENTIALS_MALFORMED",
            'Bearer realm="wellapi", error="invalid_request"',
        ),
        (
            {"credentials": "invalid"},
            "CREDENTIALS_INVALID",
            'Bearer realm="wellapi", error="invalid_token"',
        ),
        (
            {"person_id": "p"},
            "CREDENTIALS_INVALID",
            'Bearer realm="wellapi", error="invalid_token"',
        ),
    ],
)
def test_each_reason_is_answered_with_its_code_and_rfc_6750_challenge(claims, code, challenge):
    response = error_response(no_principal(claims), "trace")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == challenge
    assert f'"code":"{code}"' in (response.body or "")


def test_another_scheme_is_told_to_use_bearer_not_that_its_key_is_missing():
    unsupported = no_principal({"credentials": "unsupported"})
    missing = no_principal({"credentials": "missing"})
    assert unsupported.error_code == missing.error_code == "CREDENTIALS_MISSING"
    assert "scheme" in unsupported.detail
    assert "carries no API key" in missing.detail
    assert "Authorization: Bearer <key>" in unsupported.detail
