"""a request is one message: proofs of the moment they were sent, bound as values

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-26

Revision 0023 bound every proof to its transaction's context (this backend's pid and this
transaction's start), which the caller had to ask for first: every request was two messages,
two network round trips. The proof is a bound value (``$1``) since the application binds every
value: ``pg_stat_activity`` and ``pg_stat_statements``, which an application role reads, show
``$1`` where it went, and the server log, which no application role reads, holds bound values
only as the owner's parameters let it, which no application role may change. So a proof now
names the moment its caller made it, and is believed for a few seconds after that moment:

- ``p2.<person>.<kind>.<expiry>.<moment>.<mac>`` for ``prove_scope``, the MAC keyed by the
  scope token's own MAC over ``scope|<token body>|at|<moment>``;
- ``k3.<prefix>.<moment>.<mac>`` for ``prove_key``, keyed by the stored hash of the key's
  secret over ``key|<prefix>|at|<moment>``;
- the moment in microseconds since the epoch, believed from ``PROOF_AHEAD`` before this
  server's clock to ``PROOF_PAST`` after it (the API role's read timeout, 6 s, and skew);
  ``prove_*`` refuse a proof out of that time aloud (SQLSTATE ``WP002``: the caller's clock,
  which the function answers 503), ``set_scope`` and ``authenticate_key`` believe none.

A request's one message is then ``BEGIN``, ``CALL core_api.set_transaction_settings()`` (the
workers' procedure, now the application roles' too: the same settings as
``request_context()``), the proof, its statements and ``COMMIT``.

So that a proof reaches no log line the owner did not ask for by name, the application roles
log no bound value: ``log_parameter_max_length`` and ``log_parameter_max_length_on_error`` are
0 for them in this database (parameters only a superuser, or whom it grants, may change).

Expand only (docs/deploy.md): the previous release's proofs (``p1``, ``k2``: bound to the
transaction's context) and revision 0016's spent proofs are still believed while this release
rolls out; a revision of a later release drops them.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

API = "well_api"
AUTH = "well_auth"
# In microseconds: how long after its moment a proof is believed, and how far ahead of this
# server's clock (wellapi.http.proofs.PROOF_SECONDS, PROOF_AHEAD_SECONDS).
PROOF_PAST = 10_000_000
PROOF_AHEAD = 2_000_000
NOW = "((extract(epoch FROM clock_timestamp()) * 1000000)::bigint)"
# What a role logs of a statement's bound values (0: none), where the owner logs statements.
LOGGED_VALUES = ("log_parameter_max_length", "log_parameter_max_length_on_error")

# The person and the kind a proof names, once its MAC holds for this moment (p2) or, from the
# previous release, for this transaction (p1); else revision 0016's spent proof.
PROVEN_PERSON = f"""
  v_proof := string_to_array(current_setting('well.proof', true), '.');
  IF cardinality(v_proof) = 6 AND v_proof[1] = 'p2' AND v_proof[5] ~ '^[0-9]{{1,17}}$' THEN
    IF v_proof[5]::bigint BETWEEN {NOW} - {PROOF_PAST} AND {NOW} + {PROOF_AHEAD} THEN
      v_bound := 'at|' || v_proof[5];
      v_mac := v_proof[6];
    END IF;
  ELSIF cardinality(v_proof) = 5 AND v_proof[1] = 'p1' THEN
    v_bound := {{context}};
    v_mac := v_proof[5];
  END IF;
  IF v_bound IS NOT NULL
     AND v_proof[2] ~ '^[0-9]{{1,18}}$' AND v_proof[3] IN ('member', 'service')
     AND v_proof[4] ~ '^[0-9]{{1,12}}$' THEN
    IF v_proof[4]::bigint > extract(epoch FROM clock_timestamp()) THEN
      v_body := 't1.' || array_to_string(v_proof[2:4], '.');
      SELECT k.inner_key, k.outer_key INTO v_keys FROM well_private.scope_keys k WHERE k.id = 1;
      -- The token's MAC is the key of its proofs: the database recomputes it, nobody sends it.
      v_key := sha256(v_keys.outer_key
                      || sha256(v_keys.inner_key || convert_to('token|' || v_body, 'UTF8')));
      IF v_mac = encode(sha256(v_key || sha256(v_key || convert_to(
           'scope|' || v_body || '|' || v_bound, 'UTF8'))), 'hex') THEN
        v_kind := v_proof[3];
        SELECT p.pk INTO v_person
          FROM core_api.peoples p
         WHERE p.pk = v_proof[2]::bigint AND p.deleted_at IS NULL;
      END IF;
    END IF;
  ELSIF coalesce(current_setting('well.proof', true), '') = '' THEN
"""

# The SQLSTATE of a proof of this revision made outside the time the database believes one:
# the caller's clock, or a message held that long on its way, never a credential's fault; the
# function answers 503 and is heard (wellapi.errors).
OUT_OF_TIME_SQLSTATE = "WP002"
# prove_scope and prove_key: a proof of this revision whose moment is out of time is refused
# aloud; any proof is kept for this transaction only, believed by nobody until a verifier
# recomputes its MAC (set_scope checks the moment again: a setting can be written by hand).
PROVE = f"""
CREATE OR REPLACE PROCEDURE core_api.{{name}}(p_proof text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_moment text := split_part(p_proof, '.', {{field}});
BEGIN
  IF split_part(p_proof, '.', 1) = '{{kind}}' AND v_moment ~ '^[0-9]{{{{1,17}}}}$' THEN
    IF v_moment::bigint NOT BETWEEN {NOW} - {PROOF_PAST} AND {NOW} + {PROOF_AHEAD} THEN
      RAISE EXCEPTION 'a proof made outside the time the database believes one'
        USING ERRCODE = '{OUT_OF_TIME_SQLSTATE}';
    END IF;
  END IF;
  PERFORM set_config('well.proof', p_proof, true);
END
$fn$;
"""
# Each procedure: the kind of proof of this revision it takes, and its moment's field.
PROOFS = {"prove_scope": ("p2", 5), "prove_key": ("k3", 3)}

# A key proof of this revision, beside revision 0023's (the previous release's authorizer).
KEY_PROOF = f"""
    SELECT k.pk
      FROM proof, core_api.api_keys k
     WHERE cardinality(proof.v) = 4 AND proof.v[1] = 'k3' AND proof.v[2] ~ '^[a-z2-7]{{12}}$'
       AND CASE WHEN proof.v[3] ~ '^[0-9]{{1,17}}$' THEN proof.v[3]::bigint END
           BETWEEN {NOW} - {PROOF_PAST} AND {NOW} + {PROOF_AHEAD}
       AND k.prefix = proof.v[2]
       AND proof.v[4] = well_private.proof_mac(
             k.secret_hash, 'key|' || proof.v[2] || '|at|' || proof.v[3])
    UNION ALL
"""


def _revision(name: str) -> Any:
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"revision_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _set_scope(r23: Any, r14: Any) -> str:
    """Revision 0023's set_scope, believing a proof of this revision too."""
    body: str = r23._set_scope(r14)
    start = body.index("  v_proof := string_to_array(")
    end = body.index("    SELECT p.pk, s.kind INTO v_person, v_kind")
    proven = PROVEN_PERSON.replace("{context}", r23.CONTEXT_SQL)
    body = body[:start] + proven + body[end:]
    return body.replace("  v_key bytea;\n", "  v_key bytea;\n  v_bound text;\n  v_mac text;\n")


def _authenticate(r23: Any) -> str:
    """Revision 0023's key check, believing a key proof of this revision too."""
    body: str = r23.AUTHENTICATE
    start = body.index("    -- A key proof of this revision")
    return body[:start] + KEY_PROOF + body[start:]


def _role_setting(role: str, action: str) -> None:
    op.execute(
        f"DO $$ BEGIN EXECUTE format('ALTER ROLE {role} IN DATABASE %I {action}', "
        "current_database()); END $$"
    )


def upgrade() -> None:
    r23 = _revision("0023_proofs_bound_to_the_transaction.py")
    r14 = _revision("0014_signed_scope.py")
    for name, (kind, field) in PROOFS.items():
        op.execute(PROVE.format(name=name, kind=kind, field=field))
    op.execute(_set_scope(r23, r14))
    op.execute(_authenticate(r23))
    op.execute(f"GRANT EXECUTE ON PROCEDURE core_api.set_transaction_settings() TO {API}, {AUTH}")
    for role in (API, AUTH):
        for name in LOGGED_VALUES:
            _role_setting(role, f"SET {name} = 0")


def downgrade() -> None:
    r23 = _revision("0023_proofs_bound_to_the_transaction.py")
    r14 = _revision("0014_signed_scope.py")
    for role in (API, AUTH):
        for name in LOGGED_VALUES:
            _role_setting(role, f"RESET {name}")
    op.execute(
        f"REVOKE EXECUTE ON PROCEDURE core_api.set_transaction_settings() FROM {API}, {AUTH}"
    )
    op.execute(r23.AUTHENTICATE)
    op.execute(r23._set_scope(r14))
    for name in PROOFS:
        op.execute(
            r23.PROVE.format(name=name).replace("CREATE PROCEDURE", "CREATE OR REPLACE PROCEDURE")
        )
