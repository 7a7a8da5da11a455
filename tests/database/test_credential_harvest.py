"""No credential in any text the database keeps or shows, and no replay opens anything
(revisions 0016 and 0023).

The attacker runs SQL as ``well_api`` (and, for the key check, as ``well_auth``) with no scope
of its own worth anything beside tenant A's member scope. Tenant B's service and member keys go
through the real authorizer and the real handlers: requests that finished, one that failed,
one still waiting for a lock before its scope opened and one waiting after. The attacker
harvests every text the server keeps or shows — ``pg_stat_activity`` as each role, the server
log with every statement logged, and, as the superset of whatever else could keep a
statement's text (``pg_stat_statements``, ``auto_explain``, error reports), every message the
application sent — and replays what it found in every way the database takes one: each
message again (in no transaction, in one of its own, after asking its own proof context), each
proof through ``prove_scope``/``prove_key``, through ``set_config('well.proof', ...)`` (for the
transaction and for the session) and through revision 0016's procedures, anything shaped like
a scope token or a key's hash in the functions that took them before. Nothing opens a scope or
shows or changes a row of B, not even while B's request still runs with its proof in
``pg_stat_activity``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pg8000.dbapi
import pg8000.exceptions
import pg8000.native
import pytest

from tests.support import factories as f
from tests.support.api import get
from tests.support.cross_tenant import authorize
from tests.support.proven import SignedScope, context_of
from tests.support.writes import post, provenance_document
from wellapi.http.principal import scope_statement
from wellapi.roles import API_ROLE, AUTH_ROLE
from wellapi.store import connections as db
from wellapi.store.sql import to_literal
from welldev import api_keys
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

LEDGER = "account_workspace_connectors"
# Whatever could be, or carry, a credential: a scope token, a proof of one or of a key, a
# key's hash as the authorizer sent it before revision 0016.
TOKEN = re.compile(r"t1\.[0-9]+\.(?:member|service)\.[0-9]+\.[0-9a-f]{64}")
SCOPE_PROOF = re.compile(r"prove_scope\('([^']*)'\)")
KEY_PROOF = re.compile(r"prove_key\('([^']*)'\)")
KEY_HASH = re.compile(r"authenticate_key\('([a-z2-7]{12})', decode\('([0-9a-f]{64})'")
# A request's second message, as the server keeps it: from its proof to its end.
MESSAGE = re.compile(r"CALL core_api\.prove_(?:scope|key)\('[^']*'\);.*", re.S)
# How the attacker opens a transaction before a replay, as the API does, or not at all.
OPENINGS = (None, "BEGIN", db.OPENING)


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
    """Every message the application's connections send, as the server receives it."""
    texts: list[str] = []
    simple = pg8000.dbapi.Connection.execute_simple

    def recording(self: pg8000.dbapi.Connection, statement: str) -> Any:
        texts.append(statement)
        return simple(self, statement)

    monkeypatch.setattr(pg8000.dbapi.Connection, "execute_simple", recording)
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
    v: Victim, database: local_db.LocalDatabase, locked: str, meanwhile: Callable[[], None]
) -> dict[str, Any]:
    """B's List, held by a lock on ``locked`` while ``meanwhile`` runs; its answer."""
    service = authorize(v.service_key)
    blocker = local_db.admin_connection(database.admin_url)
    answer: dict[str, Any] = {}
    try:
        blocker.run("BEGIN")
        blocker.run(f"LOCK TABLE {locked} IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=lambda: answer.update(reply=get(LEDGER, service)))
        thread.start()
        _until_waiting(database, locked)
        meanwhile()
        answer["waited"] = _still_waiting(database, locked)
        blocker.run("COMMIT")
        thread.join(30)
    finally:
        blocker.close()
    return answer


def _still_waiting(database: local_db.LocalDatabase, relation: str) -> bool:
    watcher = local_db.admin_connection(database.admin_url)
    try:
        return bool(
            watcher.run(
                "SELECT count(*) FROM pg_locks "
                "WHERE NOT granted AND relation = CAST(:r AS regclass)",
                r=relation,
            )[0][0]
        )
    finally:
        watcher.close()


def _until_waiting(database: local_db.LocalDatabase, relation: str) -> None:
    for _ in range(500):
        if _still_waiting(database, relation):
            return
        time.sleep(0.02)
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


@dataclass(frozen=True)
class Replay:
    how: str
    role: str
    text: str  # the replay's message: its rows are judged
    before: str | None = None  # sent first, on the same session (its rows are not judged)


def _attempt(conn: pg8000.native.Connection, replay: Replay) -> list[list[Any]] | None:
    """The replay on ``conn``, rolled back; the rows of its message, or None if refused."""
    try:
        if replay.before is not None:
            conn.run(replay.before)
        return [list(r) for r in conn.run(replay.text)]
    except pg8000.exceptions.DatabaseError:
        return None
    finally:
        # A replay may leave a transaction open; outside one this only warns.
        conn.run("ROLLBACK")
        conn.run("SELECT set_config('well.proof', '', false)")


def _messages_again(found: str) -> Iterator[Replay]:
    for message in MESSAGE.findall(found):
        role = AUTH_ROLE if message.startswith("CALL core_api.prove_key") else API_ROLE
        for opening in OPENINGS:
            yield Replay(f"the whole message again after {opening}", role, message, opening)


def _scope_proofs(found: str, v: Victim, *, peek: bool = True) -> Iterator[Replay]:
    """Each scope proof found, for B's workspace; then a look at B's rows (``peek``)."""
    scope = scope_statement(v.tenant.workspace_id)
    if peek:
        scope += (
            f"; SELECT count(*) FROM core_api.{LEDGER} "
            f"WHERE workspace_connector_pk = {v.tenant.workspace_connector_pk}"
        )
    for proof in SCOPE_PROOF.findall(found):
        quoted = to_literal(proof)
        for opening in OPENINGS:
            prove = f"CALL core_api.prove_scope({quoted});"
            how = f"the proof before other statements after {opening}"
            yield Replay(how, API_ROLE, prove + scope, opening)
        in_transaction = f"BEGIN;SELECT set_config('well.proof', {quoted}, true)"
        yield Replay("the proof as the transaction's setting", API_ROLE, scope, in_transaction)
        in_session = f"SELECT set_config('well.proof', {quoted}, false)"
        yield Replay("the proof as the session's setting", API_ROLE, scope, in_session)
        spent = f"BEGIN;CALL core_api.spend_scope_proof({quoted});COMMIT;{scope}"
        yield Replay("the proof spent as revision 0016 spent one", API_ROLE, spent)


def _key_proofs(found: str) -> Iterator[Replay]:
    check = "SELECT scope_token FROM core_api.authenticate_key()"
    for proof in KEY_PROOF.findall(found):
        quoted = to_literal(proof)
        for opening in OPENINGS:
            prove = f"CALL core_api.prove_key({quoted});"
            yield Replay(
                f"the key proof before the check after {opening}", AUTH_ROLE, prove + check, opening
            )
        yield Replay(
            "the key proof as the session's setting",
            AUTH_ROLE,
            check,
            f"SELECT set_config('well.proof', {quoted}, false)",
        )
        yield Replay(
            "the key proof spent as revision 0016 spent one",
            AUTH_ROLE,
            f"BEGIN;CALL core_api.spend_key_proof({quoted});COMMIT;{check}",
        )


def _credentials(found: str, v: Victim) -> Iterator[Replay]:
    b_ws = to_literal(v.tenant.workspace_id)
    for token in TOKEN.findall(found):
        text = f"SELECT * FROM core_api.set_scope({to_literal(token)}, {b_ws})"
        yield Replay("a token as set_scope took it", API_ROLE, text)
    for prefix, digest in KEY_HASH.findall(found):
        text = (
            f"SELECT scope_token FROM core_api.authenticate_key({to_literal(prefix)}, "
            f"decode({to_literal(digest)}, 'hex'))"
        )
        yield Replay("a key's hash as authenticate_key took it", AUTH_ROLE, text)


def _replays(found: str, v: Victim) -> Iterator[Replay]:
    """Every way the database could take what was found."""
    yield from _messages_again(found)
    yield from _scope_proofs(found, v)
    yield from _key_proofs(found)
    yield from _credentials(found, v)


def _opened_something(replay: Replay, rows: list[list[Any]] | None) -> bool:
    if not rows:
        return False
    if replay.role == AUTH_ROLE:
        # A scope token for the attacker: the key check answered.
        return any(TOKEN.fullmatch(str(cell)) for row in rows for cell in row)
    scope = rows[0]
    # set_scope's (workspace_pk, person_pk), then whatever the replay read.
    return scope[0] is not None or any(
        len(row) == 1 and isinstance(row[0], int) and row[0] > 0 for row in rows[1:]
    )


@dataclass
class Attacker:
    """SQL as ``well_api`` and as ``well_auth``, replaying what it found."""

    api: pg8000.native.Connection
    auth: pg8000.native.Connection
    tried: int = 0
    opened: list[tuple[str, str, str]] = field(default_factory=list)

    def look(self, harvest: Harvest) -> None:
        for text in _activity(self.api):
            harvest.add("pg_stat_activity as well_api", text)
        for text in _activity(self.auth):
            harvest.add("pg_stat_activity as well_auth", text)

    def replay(self, source: str, replays: Iterator[Replay]) -> None:
        for replay in replays:
            rows = _attempt(self.auth if replay.role == AUTH_ROLE else self.api, replay)
            self.tried += 1
            if _opened_something(replay, rows):
                self.opened.append((source, replay.how, replay.text[:160]))


@pytest.fixture
def attacker(database: local_db.LocalDatabase) -> Iterator[Attacker]:
    api = local_db.admin_connection(database.url_for(API_ROLE))
    auth = local_db.admin_connection(database.url_for(AUTH_ROLE))
    # A replay that waits on a lock the victim's request waits on gives up, refused.
    for conn in (api, auth):
        conn.run("SET lock_timeout = '300ms'")
    try:
        yield Attacker(api, auth)
    finally:
        api.close()
        auth.close()


def test_no_text_the_database_keeps_or_shows_opens_another_tenant(
    database, admin, victim, sent, logged, attacker
):
    harvest = Harvest()

    def race() -> None:
        # While B's request waits on B's rows with its scope open and its proof in
        # pg_stat_activity, replay each proof there (B's rows are locked: the scope's row says
        # whether it opened).
        found = Harvest()
        attacker.look(found)
        for source, texts in found.texts.items():
            for text in texts:
                harvest.add(source, text)
                replays = _scope_proofs(text, victim, peek=False)
                attacker.replay(f"{source}, while it ran", replays)
                raced.extend(SCOPE_PROOF.findall(text))

    raced: list[str] = []
    _b_traffic(victim, admin)
    attacker.look(harvest)  # idle backends keep their last message
    before_scope = _waiting(
        victim, database, "well_private.scope_keys", lambda: attacker.look(harvest)
    )
    after_scope = _waiting(victim, database, f"core_api.{LEDGER}", race)
    assert before_scope["reply"].status == after_scope["reply"].status == 200
    assert before_scope["waited"]
    assert after_scope["waited"]
    for text in logged():
        harvest.add("server log", text)
    for text in sent:
        harvest.add("messages sent (the superset)", text)

    found_proofs = [t for t in harvest.every() if SCOPE_PROOF.search(t)]
    assert any("pg_stat_activity" in s for s in harvest.texts), harvest.texts.keys()
    assert any(KEY_PROOF.search(t) for t in harvest.every()), "no key check was harvested"
    assert found_proofs, "the harvest found nothing to replay"
    rows_before = admin.run(f"SELECT count(*) FROM core_api.{LEDGER}")[0][0]
    for source, texts in harvest.texts.items():
        for text in texts:
            attacker.replay(source, _replays(text, victim))

    assert raced, "no proof was found while its request ran"
    assert attacker.tried > 100
    assert attacker.opened == []
    assert admin.run(f"SELECT count(*) FROM core_api.{LEDGER}")[0][0] == rows_before
    assert _b_rows_visible(attacker.api, victim) == 0


def test_the_text_of_a_request_that_failed_opens_nothing_afterwards(database, api_conn, victim):
    """A request that failed (here on a lock) leaves a text whose replay, once the lock is
    gone, opens nothing; the same statements with a proof of their own transaction do."""
    signed = SignedScope.of(authorize(victim.service_key))
    peek = (
        f"SELECT count(*) FROM core_api.{LEDGER} "
        f"WHERE workspace_connector_pk = {victim.tenant.workspace_connector_pk}"
    )
    statements = f"SELECT set_config('lock_timeout', '200', true); {signed.statement}; {peek}"
    blocker = local_db.admin_connection(database.admin_url)
    try:
        blocker.run("BEGIN")
        blocker.run(f"LOCK TABLE core_api.{LEDGER} IN ACCESS EXCLUSIVE MODE")
        api_conn.run(db.OPENING)
        message = signed.prove(context_of(api_conn)) + statements
        failed = Replay("the failed request", API_ROLE, message)
        assert _attempt(api_conn, failed) is None
    finally:
        blocker.run("ROLLBACK")
        blocker.close()

    for opening in OPENINGS:
        again = Replay(f"its text again after {opening}", API_ROLE, message, opening)
        assert _attempt(api_conn, again) == [["200ms"], [None, None], [0]]
    assert signed.run(api_conn, statements) == [
        ["200ms"],
        [victim.tenant.workspace_pk, victim.tenant.person_pk],
        [1],
    ]
