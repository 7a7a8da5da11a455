-- The schemas and the application roles. Applied first by the baseline revision.
--
-- core_api holds what the application's roles use; well_private what only the owner (whoever
-- runs the migrations) may touch: the scope's signing key, spent proofs, kept answers, the
-- roles' recorded settings.
-- env.py makes core_api first: Alembic keeps its version table there.
CREATE SCHEMA IF NOT EXISTS core_api;
CREATE SCHEMA well_private;

-- Roles belong to the server, not the database: another database on it, or an earlier deploy,
-- may have made them already. Each logs in (with an IAM token on RDS, hence rds_iam), owns
-- nothing, and bypasses no row-level security.
--   well_api    the API functions; may not DELETE (deletes are soft).
--   well_sync   the connector sync writer of the provenance ledgers, and the sweeper.
--   well_auth   the authorizer: it may only call core_api.authenticate_key().
--   well_drain  the change drainer: reads change records, marks them sent.
--   well_heal   sets the others' own defaults back to the deployment's, each as the role itself
--               (core_api.restore_role_defaults()); none of them can change its defaults.
--   well_operator  the operator function: it may only call the core_api.operator_*() functions,
--               one action each (a workspace, a person, a connector, an API key).
DO $$
DECLARE
  role_name text;
BEGIN
  FOREACH role_name IN ARRAY ARRAY['well_api', 'well_sync', 'well_auth', 'well_drain',
                                   'well_heal', 'well_operator'] LOOP
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = role_name) THEN
      EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS',
                     role_name);
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'rds_iam') THEN
      EXECUTE format('GRANT rds_iam TO %I', role_name);
    END IF;
  END LOOP;
END
$$;

-- The healer may become each application role (SET ROLE), which may always change its own
-- defaults and end its own sessions, and inherits none of their rights: membership gives it
-- nothing else.
GRANT well_api, well_sync, well_auth, well_drain, well_operator TO well_heal
  WITH INHERIT FALSE, SET TRUE;

-- No object of an application role's own: no temporary table, nothing in schema public. No
-- name a statement or a function uses can then resolve to one a session made.
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC, well_api, well_sync, well_auth, '
                 'well_drain, well_heal, well_operator', current_database());
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
