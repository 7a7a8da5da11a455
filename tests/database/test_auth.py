"""API keys and the authorizer: who gets in, and what an outsider is told."""

from __future__ import annotations

import time
from uuid import uuid4

import pytest

from tests.support import api
from tests.support import factories as f
from tests.support.api import Lambda
from wellapi.handlers.authorizer import ClaimsCache, authorizer_handler, lookup
from wellapi.http import keys
from wellapi.http.keys import parse_authorization
from welldev import api_keys


def authorize(header: str | None) -> dict:
    event = {"version": "2.0", "type": "REQUEST", "headers": {}}
    if header is not None:
        event["headers"]["Authorization"] = header
    return authorizer_handler()(event, Lambda())


@pytest.fixture
def member_key(api_database, admin):
    tenant = f.tenant(admin)
    key_id, key = f.member_key(admin, tenant)
    return tenant, key_id, key


def test_valid_key_yields_the_principal_claims(member_key):
    tenant, key_id, key = member_key
    before = time.time()
    result = authorize(f"Bearer {key}")
    after = time.time()
    assert result["isAuthorized"] is True
    token = result["context"].pop("scope_token")
    assert result["context"] == {
        "api_key_id": str(key_id),
        "person_id": str(tenant.person_id),
        "workspace_id": str(tenant.workspace_id),
        "principal_kind": "member",
    }
    # Signed by the database for the key's person and kind: t1.<person pk>.<kind>.<expiry>.<mac>
    version, person_pk, kind, expires, mac = token.split(".")
    assert (version, int(person_pk), kind) == ("t1", tenant.person_pk, "member")
    # Valid for ten minutes from when the database made it, during the call (however long
    # the call took; the database's clock is this machine's).
    assert int(before) + 600 <= int(expires) <= int(after) + 600
    assert len(mac) == 64


def test_the_scheme_is_case_insensitive(member_key):
    _, _, key = member_key
    assert authorize(f"bearer {key}")["context"]["principal_kind"] == "member"


def test_only_the_hash_of_the_secret_is_stored(member_key, admin):
    _, key_id, key = member_key
    secret = key[len("wk_") + 13 :]  # the secret itself may hold "_"
    stored = admin.run(
        "SELECT prefix, secret_hash, row_to_json(k)::text FROM core_api.api_keys k WHERE "
        "api_key_id = :i",
        i=str(key_id),
    )[0]
    assert bytes(stored[1]) == keys.hash_secret(secret)
    assert secret not in stored[2]
    assert key not in stored[2]


def test_use_is_recorded(member_key, admin):
    _, key_id, key = member_key
    authorize(f"Bearer {key}")
    used = admin.run(
        "SELECT last_used_at FROM core_api.api_keys WHERE api_key_id = :i", i=str(key_id)
    )
    assert used[0][0] is not None


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        ("Basic dXNlcjpwYXNz", "unsupported"),
        ("Digest username=x", "unsupported"),
        ("Bearer", "malformed"),
        ("Bearer not-a-key", "malformed"),
        ("Bearer hello", "malformed"),
        ("Bearer wk_nope_xxx", "malformed"),
        ("Token hello", "malformed"),
        ('Token token="hello"', "malformed"),
        ('Token token="wk_aaaaaaaaaaaa_' + "A" * 43 + '", nonce="x"', "malformed"),
        ("Bearer wk_aaaaaaaaaaaa_" + "A" * 43, "invalid"),
        ('Token token="wk_aaaaaaaaaaaa_' + "A" * 43 + '"', "invalid"),
    ],
)
def test_bad_credentials_pass_through_with_the_reason_alone(api_database, header, reason):
    assert authorize(header) == {"isAuthorized": True, "context": {"credentials": reason}}


def test_revoked_key_passes_through_as_invalid(member_key, admin):
    _, key_id, key = member_key
    assert f.revoke_key(admin, str(key_id)) is True
    assert authorize(f"Bearer {key}") == {"isAuthorized": True, "context": INVALID}
    assert f.revoke_key(admin, str(key_id)) is False


def test_right_prefix_with_wrong_secret_is_invalid_like_an_unknown_key(member_key):
    _, _, key = member_key
    forged = key[: len("wk_") + 13] + "B" * 43
    assert authorize(f"Bearer {forged}")["context"] == INVALID


@pytest.mark.parametrize(
    "spelling",
    ['Token token="{}"', "Token token={}", 'token TOKEN = "{}"', '  Token   token="{}"  '],
)
def test_rails_token_header_is_the_same_key_as_bearer(member_key, spelling):
    # spraypaint's default header, Rails' token authentication's.
    _, key_id, key = member_key
    bearer = authorize(f"Bearer {key}")["context"]
    token = authorize(spelling.format(key))["context"]
    assert token["api_key_id"] == bearer["api_key_id"] == str(key_id)
    assert token["principal_kind"] == "member"


# --- what a client is told: the handler's 401 for each reason -------------------------------

INVALID = {"credentials": "invalid"}
MISSING_CHALLENGE = 'Bearer realm="wellapi"'
UNKNOWN = "Bearer wk_aaaaaaaaaaaa_" + "A" * 43


def refused(header: str | None, request_id: str | None = None) -> api.Reply:
    """The API's answer to a List sent with ``header``, through the real authorizer; the query
    is broken too, and the credential is answered first."""
    sent = api.event(
        "GET",
        "/v1/account-workspace-connectors",
        query="page[size]=9999&bogus=1",
        claims=authorize(header)["context"],
    )
    if request_id is not None:
        sent["requestContext"]["requestId"] = request_id
    return api.call("account_workspace_connectors", "list", sent)


MALFORMED = "CREDENTIALS_MALFORMED", MISSING_CHALLENGE + ', error="invalid_request"'


@pytest.mark.parametrize(
    ("header", "code", "challenge", "advice"),
    [
        (None, "CREDENTIALS_MISSING", MISSING_CHALLENGE, "send one in the Authorization header"),
        ("", "CREDENTIALS_MISSING", MISSING_CHALLENGE, "send one in the Authorization header"),
        # RFC 6750: another scheme is no credential offered, so no error in the challenge.
        ("Basic dXNlcjpwYXNz", "CREDENTIALS_MISSING", MISSING_CHALLENGE, "scheme this API"),
        ("Bearer wk_nope_xxx", *MALFORMED, "Send the key whole, as it was issued"),
        ("Bearer hello", *MALFORMED, "Send the key whole, as it was issued"),
        ('Token token="hello"', *MALFORMED, "Send the key whole, as it was issued"),
        (
            UNKNOWN,
            "CREDENTIALS_INVALID",
            MISSING_CHALLENGE + ', error="invalid_token"',
            "Send a key that is in use",
        ),
    ],
)
def test_each_kind_of_failed_authentication_has_its_code_challenge_and_advice(
    api_database, header, code, challenge, advice
):
    reply = refused(header)
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == challenge
    (error,) = reply.errors
    assert (error["status"], error["code"], error["title"]) == ("401", code, "Unauthorized")
    assert advice in error["detail"]
    # JSON:API's source names the header every reason is about, present or not.
    assert error["source"] == {"header": "Authorization"}
    # The detail never repeats what was sent.
    assert header is None or not header or header.split()[-1] not in error["detail"]


def test_a_key_that_opens_nothing_gets_one_answer_byte_for_byte(member_key, admin):
    """Unknown, revoked, deleted, its person removed, a wrong secret for a live prefix, an
    expired scope token: nothing in the answer tells them apart, or tells that a key exists."""
    tenant, _, key = member_key
    revoked_id, revoked = f.member_key(admin, tenant, "revoked")
    f.revoke_key(admin, str(revoked_id))
    deleted_id, deleted = f.member_key(admin, tenant, "deleted")
    admin.run(
        "UPDATE core_api.api_keys SET deleted_at = now() WHERE api_key_id = :i", i=str(deleted_id)
    )
    gone = f.tenant(admin)
    _, gone_key = f.member_key(admin, gone)
    admin.run(
        "UPDATE core_api.peoples SET deleted_at = now() WHERE person_id = :p", p=str(gone.person_id)
    )
    request_id = str(uuid4())
    answers = {
        name: refused(header, request_id)
        for name, header in {
            "unknown": UNKNOWN,
            "revoked": f"Bearer {revoked}",
            "deleted": f"Bearer {deleted}",
            "person removed": f"Token token={gone_key}",
            "wrong secret": f"Bearer {key[: len('wk_') + 13]}" + "B" * 43,
        }.items()
    }
    # The authorizer's answer of ten minutes ago: its scope token, correctly signed, expired.
    claims = authorize(f"Bearer {key}")["context"]
    claims["scope_token"] = expired_token(admin, tenant.person_pk)
    sent = api.event("GET", "/v1/account-workspace-connectors", claims=claims)
    sent["requestContext"]["requestId"] = request_id
    answers["expired"] = api.call("account_workspace_connectors", "list", sent)
    unknown = answers["unknown"]
    assert unknown.errors[0]["code"] == "CREDENTIALS_INVALID"
    for name, reply in answers.items():
        assert (reply.status, reply.headers, reply.body) == (
            unknown.status,
            unknown.headers,
            unknown.body,
        ), name


def expired_token(admin, person_pk: int) -> str:
    """A member scope token of the person that expired in 2023, signed with the live key."""
    body = f"t1.{person_pk}.member.1700000000"
    return f"{body}.{admin.run('SELECT well_private.mac(:m)', m='token|' + body)[0][0]}"


def test_keys_are_listed_without_secrets(member_key, admin):
    _, key_id, key = member_key
    listed = {k.api_key_id: k for k in api_keys.list_keys(admin)}
    assert listed[key_id].prefix in key
    assert key not in repr(listed[key_id])


def test_a_key_for_an_unknown_person_is_refused(api_database, admin):
    tenant = f.tenant(admin)
    with pytest.raises(LookupError):
        api_keys.create_key(
            admin,
            person_id=tenant.workspace_id,
            workspace_id=tenant.workspace_id,
            kind="member",
            name="x",
        )
    with pytest.raises(ValueError, match="kind"):
        api_keys.create_key(
            admin,
            person_id=tenant.person_id,
            workspace_id=tenant.workspace_id,
            kind="root",
            name="x",
        )


# --- The authorizer's cache (API Gateway's is off: template.yaml) ----------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_keys_answer_is_kept_for_the_ttl_so_a_revoked_key_works_until_it_expires(
    member_key, admin
):
    _, key_id, key = member_key
    clock = Clock()
    handler = authorizer_handler(ClaimsCache(ttl=30, clock=clock))
    event = {"version": "2.0", "headers": {"authorization": f"Bearer {key}"}}
    claims = handler(event, Lambda())["context"]
    assert claims["api_key_id"] == str(key_id)

    assert f.revoke_key(admin, str(key_id)) is True
    clock.now += 29.9
    assert handler(event, Lambda())["context"] == claims  # answered from the cache
    clock.now += 0.2
    assert handler(event, Lambda()) == {"isAuthorized": True, "context": INVALID}


def test_the_cache_is_keyed_by_the_key_not_the_header_spelling(member_key):
    _, _, key = member_key
    lookups = []
    cache = ClaimsCache(ttl=30)

    def counting(parsed):
        lookups.append(parsed)
        return lookup(parsed)

    for header in (f"Bearer {key}", f"bearer {key}", f"  BEARER   {key} "):
        parsed = parse_authorization(header)
        assert cache.answer(parsed, counting)["principal_kind"] == "member"
    assert len(lookups) == 1


def test_an_unavailable_database_is_never_cached():
    cache = ClaimsCache(ttl=30)
    key = parse_authorization("Bearer wk_aaaaaaaaaaaa_" + "A" * 43)
    answers = iter([ConnectionError("down"), {"person_id": "p"}])

    def flaky(_):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with pytest.raises(ConnectionError):
        cache.answer(key, flaky)
    assert cache.answer(key, flaky) == {"person_id": "p"}


def test_the_cache_forgets_the_least_recently_used_key_beyond_its_size():
    cache = ClaimsCache(ttl=30, max_entries=2)
    first, second, third = (
        parse_authorization(f"Bearer wk_aaaaaaaaaaa{c}_" + "A" * 43) for c in "abc"
    )
    looked_up = []

    def record(parsed):
        looked_up.append(parsed)

    for parsed in (first, second, first, third, first, second):
        cache.answer(parsed, record)
    # second was the least recently used when third came in; first stayed.
    assert looked_up == [first, second, third, second]


def test_a_zero_ttl_looks_every_key_up():
    cache = ClaimsCache(ttl=0)
    key = parse_authorization("Bearer wk_aaaaaaaaaaaa_" + "A" * 43)
    looked_up = []
    for _ in range(3):
        cache.answer(key, looked_up.append)
    assert len(looked_up) == 3
