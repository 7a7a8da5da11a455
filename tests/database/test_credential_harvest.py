"""No credential in any text the database keeps or shows (revision 0016).

The attacker runs SQL as ``well_api`` (and, for the key check, as ``well_auth``) with no scope
of its own worth anything beside tenant A's member scope. Tenant B's service and member keys go
through the real authorizer and the real handlers: requests that finished, one that failed,
one still waiting for a lock after it spent its proof and one waiting before it could. The
attacker harvests every text the server keeps or shows — ``pg_stat_activity`` as each role,
the server log with every statement logged, and, as the superset of whatever else could keep a
statement's text (``pg_stat_statements``, ``auto_explain``, error reports), every message the
application sent — and replays what it found in every way the database takes one: the whole
message again, its proof with other statements, anything shaped like a scope token or a key's
hash in the functions that took them before. Nothing opens a scope or shows or changes a row
of B.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pg8000.exceptions
import pg8000.native
import pytest

from tests.support import factories as f
from tests.support.api import get
from tests.support.cross_tenant import authorize
from tests.support.writes import post, provenance_document
from wellapi.http.principal import scope_statement
from wellapi.http.proofs import seal_with_token
from wellapi.roles import API_ROLE, AUTH_ROLE
from wellapi.store import connections as db
from wellapi.store.templates import to_literal
from welldev import api_keys
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

LEDGER = "account_workspace_connectors"
# Whatever could be, or carry, a credential: a scope token, a proof of one or of a key, a
# key's hash as the authorizer sent it before.
TOKEN = re.compile(r"t1\.[0-9]+\.(?:member|service)\.[0-9]+\.[0-9a-f]{64}")
SCOPE_PROOF = re.compile(r"spend_scope_proof\('([^']*)'\)")
KEY_PROOF = re.compile(r"spend_key_proof\('([^']*)'\)")
KEY_HASH = re.compile(r"authenticate_key\('([a-z2-7]{12})', decode\('([0-9a-f]{64})'")
# A message of the application, as the server keeps it: from its proof to its end.
MESSAGE = re.compile(r"BEGIN;CALL core_api\.spend_(?:scope|key)_proof\('[^']*'\);COMMIT;.*", re.S)


@dataclass
class Victim:
    tenant: f.Tenant
    service_key: str
    member_key: str
    account_pk: int
    row_ids: list[UUID] = field(default_factory=list)


@dataclass
class Harvest:
    texts: dict[str, list[str]] = field(default_factory=dict)

    def add(self, source: str, text: str | None) -> None:
        if text:
            self.texts.setdefault(source, []).append(text)

    def every(self) -> Iterator[str]:
        for texts in self.texts.values():
            yield from texts


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every message the application sends, as the server receives it."""
    texts: list[str] = []
    run = db.Pool.run

    def recording(self: db.Pool, sql: str) -> list[Any]:
        texts.append(sql)
        return run(self, sql)

    monkeypatch.setattr(db.Pool, "run", recording)
    return texts


@pytest.fixture
def logged(database: local_db.LocalDatabase, admin: pg8000.native.Connection) -> Iterator[Any]:
    """The statements of the application's roles in the server log, logged from now on."""
    for role in (API_ROLE, AUTH_ROLE):
        admin.run(f"ALTER ROLE {role} IN DATABASE {database.name} SET log_statement = 'all'")
    db.reset_pools()
    log = _log_file(admin)
    start = _log_size(admin, log) if log else 0
    try:
        yield lambda: _logged_statements(_read_log(admin, log, start)) if log else []
    finally:
        for role in (API_ROLE, AUTH_ROLE):
            admin.run(f"ALTER ROLE {role} IN DATABASE {database.name} RESET log_statement")
        db.reset_pools()


def _log_file(admin: pg8000.native.Connection) -> str | None:
    """The collector's file, or the embedded server's (``pg_ctl -l <data dir>/log``); None
    when this server's log cannot be read over SQL (the messages sent are the superset)."""
    try:
        current = admin.run("SELECT pg_current_logfile()")[0][0]
        if current:
            return str(current)
        found = admin.run("SELECT name FROM pg_ls_dir('.') AS name WHERE name = 'log'")
    except pg8000.exceptions.DatabaseError:
        return None
    return "log" if found else None


def _log_size(admin: pg8000.native.Connection, log: str) -> int:
    return int(admin.run("SELECT size FROM pg_stat_file(:f)", f=log)[0][0])


def _read_log(admin: pg8000.native.Connection, log: str, start: int) -> str:
    size = _log_size(admin, log)
    return str(admin.run("SELECT pg_read_file(:f, :o, :n)", f=log, o=start, n=size - start)[0][0])


# A log entry starts with its timestamp (log_line_prefix's %m or %t) and may span lines.
LOG_ENTRY = re.compile(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
LOGGED_STATEMENT = re.compile(r"(?:statement|STATEMENT):\s+(.*)", re.S)


def _logged_statements(log: str) -> list[str]:
    found = (LOGGED_STATEMENT.search(entry) for entry in LOG_ENTRY.split(log))
    return [m.group(1).rstrip("\n") for m in found if m]


@pytest.fixture
def victim(admin: pg8000.native.Connection) -> Victim:
    b = f.tenant(admin)
    _, service_key = api_keys.create_key(
        admin, person_id=b.person_id, workspace_id=b.workspace_id, kind="service", name="sync"
    )
    _, member_key = f.member_key(admin, b)
    account_pk, _ = b.account()
    v = Victim(b, service_key, member_key, account_pk)
    v.row_ids.append(f.provenance(admin, LEDGER, account_pk, b.workspace_connector_pk))
    return v


def _b_traffic(v: Victim, admin: pg8000.native.Connection) -> None:
    """B's requests that finish: reads, a create, and a create the database refuses."""
    service = authorize(v.service_key)
    member = authorize(v.member_key)
    assert get(LEDGER, service).status == 200
    assert get(LEDGER, member, row_id=str(v.row_ids[0])).status == 200
    _, account_id = v.tenant.account()
    created = post(
        LEDGER, service, provenance_document(LEDGER, account_id, v.tenant.workspace_connector_id)
    )
    assert created.status == 201
    v.row_ids.append(UUID(created.json["data"]["id"]))
    other = f.tenant(admin)
    _, foreign = other.account()
    refused = post(
        LEDGER, service, provenance_document(LEDGER, foreign, v.tenant.workspace_connector_id)
    )
    assert 400 <= refused.status < 500


def _waiting(
    v: Victim, database: local_db.LocalDatabase, locked: str, harvest: Any
) -> dict[str, Any]:
    """B's List, held by a lock on ``locked`` while the attacker harvests; its answer."""
    service = authorize(v.service_key)
    blocker = local_db.admin_connection(database.admin_url)
    answer: dict[str, Any] = {}
    try:
        blocker.run("BEGIN")
        blocker.run(f"LOCK TABLE {locked} IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=lambda: answer.update(reply=get(LEDGER, service)))
        thread.start()
        _until_waiting(database, locked)
        harvest()
        blocker.run("COMMIT")
        thread.join(30)
    finally:
        blocker.close()
    return answer


def _until_waiting(database: local_db.LocalDatabase, relation: str) -> None:
    watcher = local_db.admin_connection(database.admin_url)
    try:
        for _ in range(500):
            waiting = watcher.run(
                "SELECT count(*) FROM pg_locks "
                "WHERE NOT granted AND relation = CAST(:r AS regclass)",
                r=relation,
            )[0][0]
            if waiting:
                return
            time.sleep(0.02)
    finally:
        watcher.close()
    raise AssertionError(f"no request waited for {relation}")


def _activity(conn: pg8000.native.Connection) -> list[str]:
    # Another role's sessions show "<insufficient privilege>"; its own show their last text.
    rows = conn.run("SELECT query FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
    return [str(q) for (q,) in rows if q and q != "<insufficient privilege>"]


def _b_rows_visible(conn: pg8000.native.Connection, v: Victim) -> int:
    return int(
        conn.run(
            f"SELECT count(*) FROM core_api.{LEDGER} WHERE workspace_connector_pk = "
            f"{v.tenant.workspace_connector_pk}"
        )[0][0]
    )


def _attempt(conn: pg8000.native.Connection, text: str) -> list[list[Any]] | None:
    """``text`` as one simple query in a transaction of its own; its rows, or None if refused."""
    try:
        return [list(r) for r in conn.run(text)]
    except pg8000.exceptions.DatabaseError:
        return None
    finally:
        # A replay may leave a transaction open; outside one this only warns.
        conn.run("ROLLBACK")


def _replays(found: str, v: Victim) -> Iterator[tuple[str, str, str]]:
    """(how, role, text): every way the database could take what was found."""
    b_ws = to_literal(v.tenant.workspace_id)
    peek = (
        f"SELECT count(*) FROM core_api.{LEDGER} "
        f"WHERE workspace_connector_pk = {v.tenant.workspace_connector_pk}"
    )
    for message in MESSAGE.findall(found):
        role = AUTH_ROLE if "spend_key_proof" in message[:40] else API_ROLE
        yield "the whole message again", role, message
    for proof in SCOPE_PROOF.findall(found):
        opening = f"BEGIN;CALL core_api.spend_scope_proof({to_literal(proof)});COMMIT;"
        yield (
            "the proof before other statements",
            API_ROLE,
            (f"{opening}{scope_statement(v.tenant.workspace_id)}; {peek}"),
        )
    for proof in KEY_PROOF.findall(found):
        opening = f"BEGIN;CALL core_api.spend_key_proof({to_literal(proof)});COMMIT;"
        yield (
            "the key proof before other statements",
            AUTH_ROLE,
            (f"{opening}SELECT scope_token FROM core_api.authenticate_key()"),
        )
    for token in TOKEN.findall(found):
        yield (
            "a token as set_scope took it",
            API_ROLE,
            (f"SELECT * FROM core_api.set_scope({to_literal(token)}, {b_ws}); {peek}"),
        )
    for prefix, digest in KEY_HASH.findall(found):
        yield (
            "a key's hash as authenticate_key took it",
            AUTH_ROLE,
            (
                f"SELECT scope_token FROM core_api.authenticate_key({to_literal(prefix)}, "
                f"decode({to_literal(digest)}, 'hex'))"
            ),
        )


def _opened_something(how: str, role: str, rows: list[list[Any]] | None, v: Victim) -> bool:
    if not rows:
        return False
    if role == AUTH_ROLE:
        # A scope token for the attacker: the key check answered.
        return any(TOKEN.fullmatch(str(cell)) for row in rows for cell in row)
    scope = rows[0]
    # set_scope's (workspace_pk, person_pk), then whatever the replay read.
    return scope[0] is not None or any(
        len(row) == 1 and isinstance(row[0], int) and row[0] > 0 for row in rows[1:]
    )


def test_no_text_the_database_keeps_or_shows_opens_another_tenant(
    database, admin, victim, sent, logged
):
    harvest = Harvest()
    api = local_db.admin_connection(database.url_for(API_ROLE))
    auth = local_db.admin_connection(database.url_for(AUTH_ROLE))
    try:

        def look() -> None:
            for text in _activity(api):
                harvest.add("pg_stat_activity as well_api", text)
            for text in _activity(auth):
                harvest.add("pg_stat_activity as well_auth", text)

        _b_traffic(victim, admin)
        look()  # idle backends keep their last message
        before_spend = _waiting(victim, database, "well_private.spent_proofs", look)
        after_spend = _waiting(victim, database, f"core_api.{LEDGER}", look)
        assert before_spend["reply"].status == after_spend["reply"].status == 200
        for text in logged():
            harvest.add("server log", text)
        for text in sent:
            harvest.add("messages sent (the superset)", text)

        found_proofs = [t for t in harvest.every() if SCOPE_PROOF.search(t)]
        assert any("pg_stat_activity" in s for s in harvest.texts), harvest.texts.keys()
        assert found_proofs, "the harvest found nothing to replay"
        rows_before = admin.run(f"SELECT count(*) FROM core_api.{LEDGER}")[0][0]

        opened = []
        tried = 0
        for source, texts in harvest.texts.items():
            for text in texts:
                for how, role, replay in _replays(text, victim):
                    conn = auth if role == AUTH_ROLE else api
                    rows = _attempt(conn, replay)
                    tried += 1
                    if _opened_something(how, role, rows, victim):
                        opened.append((source, how, replay[:160]))

        assert tried > 0
        assert opened == []
        assert admin.run(f"SELECT count(*) FROM core_api.{LEDGER}")[0][0] == rows_before
        assert _b_rows_visible(api, victim) == 0
    finally:
        api.close()
        auth.close()


def test_a_proof_is_spent_even_when_its_request_failed(database, api_conn, victim):
    """The spend commits before the request's own statements run: a request that fails (here
    on a lock) leaves a text whose replay, once the lock is gone, opens nothing."""
    token = authorize(victim.service_key)["scope_token"]
    peek = (
        f"SELECT count(*) FROM core_api.{LEDGER} "
        f"WHERE workspace_connector_pk = {victim.tenant.workspace_connector_pk}"
    )
    message = seal_with_token(
        "SELECT set_config('lock_timeout', '200', true); "
        f"{scope_statement(victim.tenant.workspace_id)}; {peek}",
        token,
    )
    blocker = local_db.admin_connection(database.admin_url)
    try:
        blocker.run("BEGIN")
        blocker.run(f"LOCK TABLE core_api.{LEDGER} IN ACCESS EXCLUSIVE MODE")
        assert _attempt(api_conn, message) is None
    finally:
        blocker.run("ROLLBACK")
        blocker.close()

    assert _attempt(api_conn, message) == [["200ms"], [None, None], [0]]
    assert _attempt(
        api_conn, seal_with_token(message[message.index("SELECT set_config") :], token)
    ) == [["200ms"], [victim.tenant.workspace_pk, victim.tenant.person_pk], [1]]
