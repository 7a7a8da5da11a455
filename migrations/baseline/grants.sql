-- What each role may do, object by object: the owner (whoever runs the migrations) keeps every
-- right; PUBLIC keeps none on a function; each application role holds only what its statements
-- use (tests/database/test_role_privileges.py holds the statements to it). Column grants name
-- the columns a role reads or writes: a column added later is no role's until a grant says so.

GRANT USAGE ON SCHEMA core_api TO well_api, well_sync, well_auth, well_drain, well_heal,
  well_operator;

REVOKE ALL ON FUNCTION core_api.authenticate_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.authenticate_key() TO well_auth;

REVOKE ALL ON FUNCTION core_api.check_client_id(p_table regclass, p_id uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.check_client_id(p_table regclass, p_id uuid) TO well_api;

REVOKE ALL ON PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[]) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[]) TO well_api, well_sync, well_auth, well_drain, well_operator;

REVOKE ALL ON FUNCTION core_api.claim_idempotency_key(p_key text, p_fingerprint text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.claim_idempotency_key(p_key text, p_fingerprint text) TO well_api;

REVOKE ALL ON FUNCTION core_api.end_stalled_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.end_stalled_sessions() TO well_sync, well_drain;

REVOKE ALL ON FUNCTION core_api.ledger_direction_stays() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.ledger_direction_stays() TO well_api, well_sync;

REVOKE ALL ON FUNCTION core_api.linked_parent_stays_in_its_workspace() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.linked_parent_stays_in_its_workspace() TO well_api, well_sync;

REVOKE ALL ON FUNCTION core_api.may_enrol(p_group_pk bigint, p_workspace_pk bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.may_enrol(p_group_pk bigint, p_workspace_pk bigint) TO well_api;

REVOKE ALL ON FUNCTION core_api.operator_add_person(p_workspace_id uuid, p_full_name text, p_role text, p_person_id uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.operator_add_person(p_workspace_id uuid, p_full_name text, p_role text, p_person_id uuid) TO well_operator;

REVOKE ALL ON FUNCTION core_api.operator_add_workspace_connector(p_workspace_id uuid, p_connector_name text, p_provider text, p_status text, p_workspace_connector_id uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.operator_add_workspace_connector(p_workspace_id uuid, p_connector_name text, p_provider text, p_status text, p_workspace_connector_id uuid) TO well_operator;

REVOKE ALL ON FUNCTION core_api.operator_issue_key(p_workspace_id uuid, p_person_id uuid, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.operator_issue_key(p_workspace_id uuid, p_person_id uuid, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer) TO well_operator;

REVOKE ALL ON FUNCTION core_api.operator_make_workspace(p_name text, p_workspace_id uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.operator_make_workspace(p_name text, p_workspace_id uuid) TO well_operator;

REVOKE ALL ON FUNCTION core_api.operator_revoke_key(p_api_key_id uuid, p_prefix text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.operator_revoke_key(p_api_key_id uuid, p_prefix text) TO well_operator;

REVOKE ALL ON FUNCTION core_api.operator_rotate_key(p_api_key_id uuid, p_prefix text, p_new_prefix text, p_new_secret_hash bytea, p_expires_in_seconds integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.operator_rotate_key(p_api_key_id uuid, p_prefix text, p_new_prefix text, p_new_secret_hash bytea, p_expires_in_seconds integer) TO well_operator;

REVOKE ALL ON PROCEDURE core_api.prove_key(IN p_proof text) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE core_api.prove_key(IN p_proof text) TO well_auth;

REVOKE ALL ON PROCEDURE core_api.prove_scope(IN p_proof text) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE core_api.prove_scope(IN p_proof text) TO well_api;

REVOKE ALL ON FUNCTION core_api.record_workspace_group_workspaces() FROM PUBLIC;

REVOKE ALL ON FUNCTION core_api.record_workspace_providers() FROM PUBLIC;

REVOKE ALL ON FUNCTION core_api.remember_idempotent_answer(p_key text, p_table regclass, p_read jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.remember_idempotent_answer(p_key text, p_table regclass, p_read jsonb) TO well_api;

REVOKE ALL ON FUNCTION core_api.restore_role_defaults() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.restore_role_defaults() TO well_heal;

REVOKE ALL ON FUNCTION core_api.role_defaults_to_restore() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.role_defaults_to_restore() TO well_heal;

REVOKE ALL ON FUNCTION core_api.scope_person_pk() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.scope_person_pk() TO well_api;

REVOKE ALL ON FUNCTION core_api.scope_principal_kind() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.scope_principal_kind() TO well_api;

REVOKE ALL ON FUNCTION core_api.scope_workspace_connector_pks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.scope_workspace_connector_pks() TO well_api;

REVOKE ALL ON FUNCTION core_api.scope_workspace_pk() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.scope_workspace_pk() TO well_api;

REVOKE ALL ON FUNCTION core_api.set_scope(p_workspace_id uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.set_scope(p_workspace_id uuid) TO well_api;

REVOKE ALL ON PROCEDURE core_api.set_transaction_settings() FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE core_api.set_transaction_settings() TO well_sync, well_drain, well_api, well_auth, well_heal, well_operator;

REVOKE ALL ON FUNCTION core_api.touch_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.touch_row() TO well_api, well_sync;

REVOKE ALL ON FUNCTION core_api.uuid_v7() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.uuid_v7() TO well_api, well_sync;

REVOKE ALL ON FUNCTION core_api.uuid_time(p_id uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.uuid_time(p_id uuid) TO well_api, well_sync;

REVOKE ALL ON FUNCTION core_api.uuid_floor(p_time timestamp with time zone) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.uuid_floor(p_time timestamp with time zone) TO well_api, well_sync;

REVOKE ALL ON FUNCTION core_api.uuid_v7_at(p_time timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION core_api.make_ledger_periods_ahead(p_period text, p_ahead integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.make_ledger_periods_ahead(p_period text, p_ahead integer) TO well_sync;

REVOKE ALL ON FUNCTION core_api.ledger_seconds_ahead() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.ledger_seconds_ahead() TO well_sync;
REVOKE ALL ON FUNCTION core_api.archived_period_of(p_ledger text, p_id uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.archived_period_of(p_ledger text, p_id uuid) TO well_api;
REVOKE ALL ON FUNCTION core_api.archived_before(p_ledger text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.archived_before(p_ledger text) TO well_api;

REVOKE ALL ON FUNCTION core_api.verified_person_pk() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.verified_person_pk() TO well_api;

REVOKE ALL ON FUNCTION core_api.verified_principal_kind() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.verified_principal_kind() TO well_api;

REVOKE ALL ON FUNCTION core_api.verified_workspace_connector_pks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.verified_workspace_connector_pks() TO well_api;

REVOKE ALL ON FUNCTION core_api.verified_workspace_pk() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core_api.verified_workspace_pk() TO well_api;

REVOKE ALL ON FUNCTION well_private.insert_api_key(p_workspace_pk bigint, p_person_pk bigint, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer, p_replaces uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.issued_api_key(p_prefix text, p_secret_hash bytea) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.live_workspace_pk(p_workspace_id uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.locked_api_key_pk(p_api_key_id uuid, p_prefix text) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.mac(p_message text) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.proof_mac(p_key bytea, p_message text) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.random_key() FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.record_operator_change(p_workspace_pk bigint, p_resource_type text, p_change text, p_id uuid, p_detail jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.scope_token(p_person_pk bigint, p_kind text) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.text_digest(p_text text) FROM PUBLIC;

GRANT SELECT (account_id, workspace_pk, type, account_name, pk, deleted_at) ON TABLE core_api.accounts TO well_api;
GRANT SELECT (account_id, workspace_pk, pk, deleted_at) ON TABLE core_api.accounts TO well_sync;

GRANT SELECT, INSERT, UPDATE ON TABLE core_api.change_feed_pruned TO well_sync;
GRANT SELECT (workspace_pk, xid, pk) ON TABLE core_api.change_feed_pruned TO well_api;

GRANT DELETE, SELECT (pk, xid, workspace_pk, sent_at), INSERT (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, sync_run_id, message_key) ON TABLE core_api.change_records TO well_sync;
GRANT SELECT (pk, xid, workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, recorded_at, actor_kind, sync_run_id, message_key) ON TABLE core_api.change_records TO well_api;
GRANT SELECT (pk, xid, workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, recorded_at, actor_kind, sync_run_id, message_key, sent_at), UPDATE (sent_at) ON TABLE core_api.change_records TO well_drain;

GRANT SELECT (company_id, workspace_pk, name, domain, pk, deleted_at) ON TABLE core_api.companies TO well_api;
GRANT SELECT (company_id, workspace_pk, pk, deleted_at) ON TABLE core_api.companies TO well_sync;

GRANT SELECT, INSERT, DELETE, UPDATE ON TABLE core_api.connector_revocations TO well_sync;
GRANT SELECT (workspace_connector_pk) ON TABLE core_api.connector_revocations TO well_api;

GRANT SELECT (workspace_pk, person_pk, status, deleted_at) ON TABLE core_api.memberships TO well_api;

GRANT SELECT (person_id, workspace_pk, first_name, last_name, full_name, pk, deleted_at) ON TABLE core_api.peoples TO well_api;
GRANT SELECT (person_id, workspace_pk, pk, deleted_at) ON TABLE core_api.peoples TO well_sync;

GRANT SELECT (provider_id, name, slug, url, category, popularity_score, pk, created_at, updated_at, deleted_at) ON TABLE core_api.providers TO well_api;

GRANT SELECT, INSERT, DELETE, UPDATE ON TABLE core_api.revocation_sweeps TO well_sync;

GRANT SELECT, INSERT, DELETE ON TABLE core_api.sync_receipts TO well_sync;

GRANT SELECT, INSERT, DELETE, UPDATE ON TABLE core_api.sync_tombstones TO well_sync;

GRANT SELECT (workspace_connector_id, workspace_pk, status, pk, deleted_at) ON TABLE core_api.workspace_connectors TO well_api;
GRANT SELECT (workspace_connector_id, workspace_pk, pk, deleted_at) ON TABLE core_api.workspace_connectors TO well_sync;

GRANT SELECT (person_pk, workspace_group_pk, role, deleted_at) ON TABLE core_api.workspace_group_memberships TO well_api;

GRANT SELECT, INSERT, UPDATE (updated_at, deleted_at) ON TABLE core_api.workspace_group_workspaces TO well_api;

GRANT SELECT (workspace_group_id, name, pk, deleted_at) ON TABLE core_api.workspace_groups TO well_api;

GRANT SELECT, INSERT, UPDATE (is_selected, is_matched, updated_at, deleted_at) ON TABLE core_api.workspace_providers TO well_api;

GRANT SELECT (workspace_id, name, pk, deleted_at) ON TABLE core_api.workspaces TO well_api;
GRANT SELECT (workspace_id, pk) ON TABLE core_api.workspaces TO well_drain;

REVOKE ALL ON FUNCTION well_private.record_settings() FROM PUBLIC;

GRANT SELECT ON TABLE core_api.transaction_settings TO well_api, well_sync, well_auth, well_drain, well_heal, well_operator;

REVOKE ALL ON FUNCTION well_private.create_ledger(p_record_type text, p_parent text, p_parent_id text) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.name_the_change_types() FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.junction_id_column(p_table regclass) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.drop_ledger(p_record_type text) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.constraint_name(p_name text) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.ledger_period_length(p_period text) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.make_ledger_periods(p_period text, p_from timestamp with time zone, p_through timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION well_private.make_ledger_period(p_ledger text, p_starts_at timestamp with time zone, p_ends_at timestamp with time zone) FROM PUBLIC;
