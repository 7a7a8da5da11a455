"""No credential in any text an application role reads, and no replay opens anything
(docs/tenancy.md, "A credential read from a log or the catalog").

The attacker runs SQL as ``well_api`` (and, for the key check, as ``well_auth``) with no scope
of its own worth anything beside tenant A's member scope. Tenant B's service and member keys go
through the real authorizer and the real handlers: requests that finished, one that failed,
one still waiting for a lock before its scope opened and one waiting after. The application
binds every value to its statements (``wellapi.store.sql``), so a proof is never statement
text: ``pg_stat_activity`` as each role shows ``$1`` where it went, and so does the server log
when its owner logs every statement (the application roles log no bound value).
The attacker replays what it found there in every way the database takes one: each text
again (in no transaction, in one of its own, opened as the API opens one), anything shaped
like a proof through ``prove_scope``/``prove_key``, through ``set_config('well.proof', ...)``
(for the transaction and for the session), anything shaped like a scope token or a key's hash
as an argument of ``set_scope`` or ``authenticate_key``. Nothing opens a scope or shows or
changes a row of B, not even while B's request still runs.

The proofs are in the values the application bound, which only the function and a log its
owner set to keep values hold: replayed every way once ``PROOF_SECONDS`` have passed since they
were made, they open nothing either.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
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
from tests.support.proven import SignedScope, moment_from_now, until_believed_no_more
from tests.support.writes import post, provenance_document
from wellapi.errors import PROOF_OUT_OF_TIME
from wellapi.http.principal import scope_statement
from wellapi.http.proofs import PROOF_SECONDS
from wellapi.roles import API_ROLE, AUTH_ROLE
from wellapi.store import connections as db
from wellapi.store import driver
from wellapi.store.sql import BoundStatement, fixed
from welldev import api_keys
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

LEDGER = "account_workspace_connectors"
# Whatever could be, or carry, a credential: a scope token, a proof of one or of a key, a
# key's hash written into the text of a call of ``authenticate_key``.
TOKEN = re.compile(r"t1\.[0-9]+\.(?:member|service)\.[0-9]+\.[0-9a-f]{64}")
# A proof of a scope or of a key (``wellapi.http.proofs``), wherever it shows: in a statement's
# text, as before values were bound, or as a bound value.
SCOPE_PROOF = re.compile(r"p[12]\.[0-9]+\.(?:member|service)\.[0-9]+(?:\.[0-9]+)?\.[0-9a-f]{64}")
KEY_PROOF = re.compile(r"k[23]\.[a-z2-7]{12}(?:\.[0-9]+)?\.[0-9a-f]{64}")
KEY_HASH = re.compile(r"authenticate_key\('([a-z2-7]{12})', decode\('([0-9a-f]{64})'")
# A request's message as a text shows it, from its proof to its end.
MESSAGE = re.compile(r"CALL core_api\.prove_(?:scope|key)\((?:'[^']*'|\$1)\).*", re.S)
# How the attacker opens a transaction before a replay, as the API does (and as the previous
# release did), or not at all.
OPENINGS = (
    None,
    "BEGIN",
    f"{db.BEGIN.text};{db.SETTINGS.text}",
)
# The statements the database takes a proof with.
PROVE_SCOPE = "CALL core_api.prove_scope($1)"
PROVE_KEY = "CALL core_api.prove_key($1)"
# One message: its statements, pipelined and bound to their values (a simple query's text is
# one statement without values).
Message = tuple[BoundStatement, ...]


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
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Message]:
    """Every message the application's connections send, as the server receives it: each
    statement's text and the values bound to it (the openings and rollbacks, simple queries,
    as statements without values)."""
    messages: list[Message] = []
    simple = getattr(pg8000.dbapi.Connection, driver.SIMPLE_QUERY)
    pipelined = db.send

    def recording(self: pg8000.dbapi.Connection, statement: str) -> Any:
        messages.append((fixed(statement),))
        return simple(self, statement)

    def send(connection: Any, statements: Sequence[BoundStatement]) -> list[Any]:
        messages.append(tuple(statements))
        return pipelined(connection, statements)

    monkeypatch.setattr(pg8000.dbapi.Connection, driver.SIMPLE_QUERY, recording)
    monkeypatch.setattr(db, "send", send)
    return messages


def _texts_of(message: Message) -> list[str]:
    """What a message shows one who reads it whole: its statements and its bound values."""
    return [*(s.text for s in message), *(str(v) for s in message for v in s.values)]


@pytest.fixture
def logged(database: local_db.LocalDatabase, admin: pg8000.native.Connection) -> Iterator[Any]:
    """The statements of the application's roles in the server log, every one logged from now
    on (as the database's owner can set it), their bound values as the roles' own settings
    say (none: ``log_parameter_max_length`` is 0 for both)."""
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
# A statement (a simple query's, or a pipelined one's as it ran: ``execute <unnamed>: ...``) or
# the values bound to it (``DETAIL:  Parameters: $1 = '...'``).
LOGGED_STATEMENT = re.compile(r"(?:statement|STATEMENT|execute [^:]*|DETAIL):\s+(.*)", re.S)


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


# What a replay sends in one message: a text as a simple query, or statements pipelined.
Sendable = str | Message


@dataclass(frozen=True)
class Replay:
    how: str
    role: str
    message: Sendable  # the replay's message: its rows are judged
    before: tuple[Sendable, ...] = ()  # sent first, on the same session (rows not judged)

    @property
    def text(self) -> str:
        if isinstance(self.message, str):
            return self.message
        return ";".join(s.text for s in self.message)


# The attacker's pipeline: ``connections.send`` itself, not the application's as ``sent``
# records it.
_pipelined = db.send


def _run(conn: pg8000.native.Connection, message: Sendable) -> list[list[Any]]:
    if isinstance(message, str):
        return [list(r) for r in conn.run(message) or []]
    return [list(r) for r in _pipelined(conn, message)]


def _attempt(conn: pg8000.native.Connection, replay: Replay) -> list[list[Any]] | None:
    """The replay on ``conn``, rolled back; the rows of its message, or None if refused."""
    try:
        for message in replay.before:
            _run(conn, message)
        return _run(conn, replay.message)
    except pg8000.exceptions.DatabaseError:
        return None
    finally:
        # A replay may leave a transaction open; outside one this only warns.
        conn.run("ROLLBACK")
        conn.run("SELECT set_config('well.proof', '', false)")


def _opened_by(opening: str | None) -> tuple[Sendable, ...]:
    return () if opening is None else (opening,)


def _role_of(proof_statement: str) -> str:
    return AUTH_ROLE if proof_statement.startswith("CALL core_api.prove_key") else API_ROLE


def _messages_again(messages: Sequence[Message]) -> Iterator[Replay]:
    """Each message with a proof, whole again, its values bound as they were; and from its
    proof on (its own opening left out)."""
    for message in messages:
        proofs = [i for i, s in enumerate(message) if MESSAGE.match(s.text)]
        if not proofs:
            continue
        role = _role_of(message[proofs[0]].text)
        for opening in OPENINGS:
            how = f"the whole message again after {opening}"
            yield Replay(how, role, message, _opened_by(opening))
            how = f"the message from its proof on after {opening}"
            yield Replay(how, role, message[proofs[0] :], _opened_by(opening))


def _texts_again(found: str) -> Iterator[Replay]:
    """A text that shows a request's message (its proof's statement on), sent again as is."""
    for text in MESSAGE.findall(found):
        for opening in OPENINGS:
            how = f"the text again after {opening}"
            yield Replay(how, _role_of(text), text, _opened_by(opening))


def _bound(text: str, *values: Any) -> BoundStatement:
    return BoundStatement(text, values)


def _scope_proofs(found: str, v: Victim, *, peek: bool = True) -> Iterator[Replay]:
    """Each scope proof found, for B's workspace; then a look at B's rows (``peek``)."""
    scope: Message = (scope_statement(v.tenant.workspace_id),)
    if peek:
        scope += (
            _bound(
                f"SELECT count(*) FROM core_api.{LEDGER} WHERE workspace_connector_pk = $1",
                v.tenant.workspace_connector_pk,
            ),
        )
    for proof in SCOPE_PROOF.findall(found):
        for opening in OPENINGS:
            how = f"the proof before other statements after {opening}"
            message = (_bound(PROVE_SCOPE, proof), *scope)
            yield Replay(how, API_ROLE, message, _opened_by(opening))
        in_transaction = ("BEGIN", (_bound("SELECT set_config('well.proof', $1, true)", proof),))
        yield Replay("the proof as the transaction's setting", API_ROLE, scope, in_transaction)
        in_session = ((_bound("SELECT set_config('well.proof', $1, false)", proof),),)
        yield Replay("the proof as the session's setting", API_ROLE, scope, in_session)


def _key_proofs(found: str) -> Iterator[Replay]:
    check = fixed("SELECT scope_token FROM core_api.authenticate_key()")
    for proof in KEY_PROOF.findall(found):
        for opening in OPENINGS:
            how = f"the key proof before the check after {opening}"
            message = (_bound(PROVE_KEY, proof), check)
            yield Replay(how, AUTH_ROLE, message, _opened_by(opening))
        yield Replay(
            "the key proof as the session's setting",
            AUTH_ROLE,
            (check,),
            ((_bound("SELECT set_config('well.proof', $1, false)", proof),),),
        )


def _credentials(found: str, v: Victim) -> Iterator[Replay]:
    b_ws = v.tenant.workspace_id
    for token in TOKEN.findall(found):
        set_scope = _bound("SELECT * FROM core_api.set_scope($1, $2)", token, b_ws)
        yield Replay("a token as set_scope took it", API_ROLE, (set_scope,))
        # And as the one argument set_scope takes now, in case it took a token there.
        yield Replay("a token in set_scope's place", API_ROLE, (_bound(SET_SCOPE_OF, token),))
    for prefix, digest in KEY_HASH.findall(found):
        check = _bound(
            "SELECT scope_token FROM core_api.authenticate_key($1, $2)",
            prefix,
            bytes.fromhex(digest),
        )
        yield Replay("a key's hash as authenticate_key took it", AUTH_ROLE, (check,))


SET_SCOPE_OF = "SELECT * FROM core_api.set_scope($1)"


def _replays(found: str, v: Victim) -> Iterator[Replay]:
    """Every way the database could take what was found in a text."""
    yield from _texts_again(found)
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


SENT = "messages sent, their values bound"
LOG = "server log"


def test_no_text_an_application_role_reads_holds_a_proof_or_opens_another_tenant(
    database, admin, victim, sent, logged, attacker
):
    harvest = Harvest()

    def race() -> None:
        # While B's request waits on B's rows with its scope open, look where an application
        # role can look (pg_stat_activity, and the server log as the owner logs it) and replay
        # any proof found. B's rows are locked: the scope's row says whether it opened.
        found = Harvest()
        attacker.look(found)
        for text in logged():
            found.add(LOG, text)
        for source, texts in found.texts.items():
            for text in texts:
                harvest.add(f"{source}, while it ran", text)
                attacker.replay(f"{source}, while it ran", _replays(text, victim))
        raced.extend(m for message in sent[running:] for m in message)

    raced: list[BoundStatement] = []
    _b_traffic(victim, admin)
    attacker.look(harvest)  # idle backends keep their last statement
    before_scope = _waiting(
        victim, database, "well_private.scope_keys", lambda: attacker.look(harvest)
    )
    running = len(sent)  # what B's waiting request sends from here on
    after_scope = _waiting(victim, database, f"core_api.{LEDGER}", race)
    assert before_scope["reply"].status == after_scope["reply"].status == 200
    assert before_scope["waited"]
    assert after_scope["waited"]
    for text in logged():
        harvest.add(LOG, text)

    activity = [s for s in harvest.texts if s.startswith("pg_stat_activity")]
    assert activity, harvest.texts.keys()
    assert any("$1" in t for s in activity for t in harvest.texts[s]), harvest.texts
    # What an application role reads is statement text: no proof, no token, no key is in it.
    credentials = (SCOPE_PROOF, KEY_PROOF, TOKEN, KEY_HASH)
    shown = [
        (s, t)
        for s, texts in harvest.texts.items()
        for t in texts
        if any(c.search(t) for c in credentials)
    ]
    assert shown == []
    if _log_file(admin):
        logged_texts = harvest.texts.get(LOG, [])
        assert any("prove_scope($1)" in t for t in logged_texts), "nothing was logged"
        assert any("prove_key($1)" in t for t in logged_texts), "no key check was logged"
    rows_before = admin.run(f"SELECT count(*) FROM core_api.{LEDGER}")[0][0]
    for source, texts in harvest.texts.items():
        for text in texts:
            attacker.replay(source, _replays(text, victim))
    assert any(MESSAGE.match(s.text) for s in raced), "B's waiting request sent no proof"

    # The proofs are where the values are bound: in what the function sent.
    values = "\n".join(t for message in sent for t in _texts_of(message))
    proofs = SCOPE_PROOF.findall(values) + KEY_PROOF.findall(values)
    assert KEY_PROOF.search(values), "no key check was harvested"
    assert SCOPE_PROOF.search(values), "no proof was sent"
    until_believed_no_more(*proofs)
    attacker.replay(SENT, _messages_again(list(sent)))
    attacker.replay(SENT, _replays(values, victim))

    assert attacker.tried > 100
    assert attacker.opened == []
    assert admin.run(f"SELECT count(*) FROM core_api.{LEDGER}")[0][0] == rows_before
    assert _b_rows_visible(attacker.api, victim) == 0


def test_the_message_of_a_request_that_failed_opens_nothing_once_its_proof_is_past(
    database, api_conn, victim
):
    """A request that failed (here on a lock) leaves a message whose replay, its values bound
    as they were, is refused once its proof's time is past; the same statements with a proof
    made now open the scope."""
    signed = SignedScope.of(authorize(victim.service_key))
    peek = _bound(
        f"SELECT count(*) FROM core_api.{LEDGER} WHERE workspace_connector_pk = $1",
        victim.tenant.workspace_connector_pk,
    )
    statements = (fixed("SELECT set_config('lock_timeout', '200', true)"), signed.statement, peek)
    blocker = local_db.admin_connection(database.admin_url)
    # Made so that its time is over a few seconds after the request failed.
    proof = signed.prove(moment_from_now(3 - PROOF_SECONDS))
    try:
        blocker.run("BEGIN")
        blocker.run(f"LOCK TABLE core_api.{LEDGER} IN ACCESS EXCLUSIVE MODE")
        api_conn.run(OPENINGS[2])
        message = (proof, *statements)
        failed = Replay("the failed request", API_ROLE, message)
        assert _attempt(api_conn, failed) is None
    finally:
        blocker.run("ROLLBACK")
        blocker.close()

    until_believed_no_more(str(proof.values[0]))
    for opening in OPENINGS:
        try:
            for before in _opened_by(opening):
                _run(api_conn, before)
            with pytest.raises(pg8000.exceptions.DatabaseError) as refused:
                _run(api_conn, message)
        finally:
            api_conn.run("ROLLBACK")
        assert refused.value.args[0]["C"] == PROOF_OUT_OF_TIME
    assert signed.run(api_conn, statements) == [
        ["200ms"],
        [victim.tenant.workspace_pk, victim.tenant.person_pk],
        [1],
    ]
