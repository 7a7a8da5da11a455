-- Functions: what no session may leave to the next transaction on its connection (every
-- setting, advisory locks, named statements, a role's own defaults) and the sessions that stall.

CREATE PROCEDURE core_api.check_prepared(IN names text[], IN digests text[], IN types text[])
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  held integer;
BEGIN
  -- The names first, then the digests of those alone (OFFSET 0 keeps the planner from
  -- pushing md5 down onto every statement the session holds).
  SELECT count(*) INTO held FROM (
    SELECT p.statement, p.parameter_types, w.digest, w.types
    FROM unnest(names, digests, types) AS w(name, digest, types)
    JOIN pg_prepared_statements p ON p.name = w.name AND NOT p.from_sql
    OFFSET 0
  ) AS m
  WHERE md5(m.statement) = m.digest
    AND cardinality(m.parameter_types) = cardinality(m.types::oid[])
    AND NOT EXISTS (
      SELECT FROM unnest(m.parameter_types::oid[], m.types::oid[]) AS t(got, declared)
      WHERE t.declared <> 0 AND t.got IS DISTINCT FROM t.declared);
  IF held IS DISTINCT FROM cardinality(names) THEN
    RAISE EXCEPTION 'a prepared statement is not the one its name was given to'
      USING ERRCODE = 'WP001';
  END IF;
END
$$;

CREATE FUNCTION core_api.end_stalled_sessions() RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  WITH stalled AS (
    SELECT a.pid
      FROM pg_stat_activity a
      JOIN well_private.session_bounds b ON b.role = a.usename
     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
       AND (
         (a.state = 'active' AND b.statement_bound IS NOT NULL
          AND a.query_start < clock_timestamp() - b.statement_bound - interval '1 second')
         OR (a.state LIKE 'idle in transaction%' AND b.idle_bound IS NOT NULL
          AND a.state_change < clock_timestamp() - b.idle_bound - interval '1 second')
         OR (a.state = 'idle'
          AND a.state_change < clock_timestamp() - interval '10 s'
                               - interval '1 second'
          AND EXISTS (SELECT FROM pg_locks l
                       WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted))
       )
  )
  SELECT count(*)::integer FROM stalled WHERE pg_terminate_backend(stalled.pid)
$$;

-- What differs between each role's own defaults in the catalog and what the deployment declares
-- for it (well_private.role_defaults), setting by setting, and the statement that sets each back:
-- a default the deployment never gave is reset, one it gave that was changed or removed is set
-- as declared (a list, search_path, as the list it is: quoted, it would be one name). First it
-- takes the lock that keeps the healers one at a time, to the end of the caller's transaction
-- (two ALTER ROLE of one catalog row at once fail, "tuple concurrently updated"): a lock on a
-- table no application role has a right on, which none can take or hold, as any role could an
-- advisory lock. A security definer, to read well_private; the statements are run by
-- core_api.restore_role_defaults() as each role, and by well_private.record_settings() as the
-- owner.
CREATE FUNCTION core_api.role_defaults_to_restore()
    RETURNS TABLE (role_name name, setting_name text, statement text, in_database boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET lock_timeout TO '15s'
    AS $$
BEGIN
  LOCK TABLE well_private.role_defaults IN SHARE ROW EXCLUSIVE MODE;
  RETURN QUERY
  WITH declared AS (
    SELECT d.role, d.settings, d.in_database, coalesce(s.setconfig, '{}') AS found,
           format('ALTER ROLE %I', d.role)
             || CASE WHEN d.in_database THEN format(' IN DATABASE %I', current_database())
                     ELSE '' END AS altered
      FROM well_private.role_defaults d
      JOIN pg_roles r ON r.rolname = d.role
      LEFT JOIN pg_db_role_setting s
        ON s.setrole = r.oid
       AND s.setdatabase = CASE WHEN d.in_database
             THEN (SELECT b.oid FROM pg_database b WHERE b.datname = current_database())
             ELSE 0 END
  ), differing AS (
    SELECT d.role, split_part(item, '=', 1) AS name,
           d.altered || format(' RESET %I', split_part(item, '=', 1)) AS statement, d.in_database
      FROM declared d CROSS JOIN unnest(d.found) AS item
     WHERE split_part(item, '=', 1) <> ALL (
             SELECT split_part(w, '=', 1) FROM unnest(d.settings) AS w)
    UNION ALL
    SELECT d.role, split_part(item, '=', 1),
           d.altered || format(' SET %I = %s', split_part(item, '=', 1),
             CASE WHEN split_part(item, '=', 1) IN ('search_path', 'temp_tablespaces',
                                                    'local_preload_libraries')
                  THEN substr(item, strpos(item, '=') + 1)
                  ELSE quote_literal(substr(item, strpos(item, '=') + 1)) END), d.in_database
      FROM declared d CROSS JOIN unnest(d.settings) AS item
     WHERE item <> ALL (d.found)
  )
  SELECT differing.role, differing.name, differing.statement, differing.in_database
    FROM differing ORDER BY 1, 2, 3;
END
$$;

-- Each application role's own defaults set back to the deployment's, each setting on its own, by
-- the role itself: run by well_heal, which may SET ROLE to each application role and inherits
-- none of their rights (a role may always change its own defaults). Not a security definer: in
-- one, resetting role or session_authorization is refused (42501), and one such default would
-- stop every other. A session of the role that holds the catalog's row (an ALTER ROLE not yet
-- committed: the only statement that takes more than a reader's lock on pg_db_role_setting) is
-- ended before each statement, which waits a second for the row at most, three times. Once a
-- role's defaults are set back, its other sessions in this database are ended too, so that each
-- opens again with the deployment's (RDS Proxy opens new ones): one opened meanwhile keeps the
-- planted defaults for its life, and one in a transaction only fails it, closed. A session is
-- ended as its own role, which needs no right to end another's. One row a setting:
-- 'role.setting', and the SQLSTATE of its failure (NULL: set back).
CREATE FUNCTION core_api.restore_role_defaults()
    RETURNS TABLE (setting text, failure text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  roles name[];
  names text[];
  statements text[];
  local boolean[];
  set_back name[] := '{}';
  role_name name;
BEGIN
  -- Read as well_heal, before any SET ROLE: the roles it sets have no right on the function.
  SELECT coalesce(array_agg(t.role_name), '{}'), coalesce(array_agg(t.setting_name), '{}'),
         coalesce(array_agg(t.statement), '{}'), coalesce(array_agg(t.in_database), '{}')
    INTO roles, names, statements, local
    FROM core_api.role_defaults_to_restore() AS t;
  PERFORM set_config('lock_timeout', '1s', true);
  FOR i IN 1..cardinality(roles) LOOP
    EXECUTE format('SET LOCAL ROLE %I', roles[i]);
    setting := roles[i] || '.' || names[i];
    FOR attempt IN 1..3 LOOP
      -- Ended in the select list: in a WHERE clause, the planner may call it on rows it has
      -- not yet filtered. This database's row is held from this database only; the row for
      -- every database, from any.
      PERFORM pg_terminate_backend(a.pid, 1000)
         FROM pg_stat_activity a
        WHERE a.usename = roles[i] AND a.pid <> pg_backend_pid()
          AND (NOT local[i] OR a.datname = current_database())
          AND EXISTS (SELECT FROM pg_locks l
                       WHERE l.pid = a.pid AND l.granted AND l.mode <> 'AccessShareLock'
                         AND l.relation = 'pg_catalog.pg_db_role_setting'::regclass);
      BEGIN
        EXECUTE statements[i];
        failure := NULL;
        EXIT;
      EXCEPTION
        -- The row's holder came back, or committed first ("tuple concurrently updated").
        WHEN lock_not_available OR internal_error THEN failure := SQLSTATE;
        WHEN OTHERS THEN failure := SQLSTATE; EXIT;
      END;
    END LOOP;
    RESET ROLE;
    IF failure IS NULL THEN
      set_back := set_back || roles[i];
    END IF;
    RETURN NEXT;
  END LOOP;
  FOREACH role_name IN ARRAY ARRAY(SELECT DISTINCT r FROM unnest(set_back) AS r) LOOP
    EXECUTE format('SET LOCAL ROLE %I', role_name);
    PERFORM pg_terminate_backend(a.pid, 1000)
       FROM pg_stat_activity a
      WHERE a.usename = role_name AND a.datname = current_database()
        AND a.pid <> pg_backend_pid();
    RESET ROLE;
  END LOOP;
END
$$;

CREATE PROCEDURE core_api.set_transaction_settings()
    LANGUAGE plpgsql
    AS $$
DECLARE
  wanted core_api.transaction_settings;
  set_again text;
BEGIN
  SELECT * INTO wanted FROM core_api.transaction_settings WHERE role = CURRENT_USER;
  IF NOT FOUND THEN
    -- Each role the deployment makes (migrations/baseline/roles.sql) has its own row: without
    -- it, its transactions would run with no timer at all. Refused.
    IF CURRENT_USER IN ('well_api', 'well_sync', 'well_auth', 'well_drain', 'well_heal',
                        'well_operator') THEN
      RAISE EXCEPTION 'no transaction settings are recorded for role %', CURRENT_USER
        USING ERRCODE = 'WP003', HINT = 'The owner runs SELECT well_private.record_settings().';
    END IF;
    -- Any other role (the owner's own tools): the server's.
    SELECT * INTO wanted FROM core_api.transaction_settings WHERE role = '';
  END IF;
  -- The timers first: one a session left could cut this transaction's first statement short.
  -- transaction_timeout is NULL on a server without it (before PostgreSQL 17).
  IF wanted.transaction_timeout IS NOT NULL THEN
    IF pg_catalog.current_setting('transaction_timeout') IS DISTINCT FROM wanted.transaction_timeout THEN
      PERFORM pg_catalog.set_config('transaction_timeout', wanted.transaction_timeout, true);
    END IF;
  END IF;
  IF pg_catalog.current_setting('statement_timeout') IS DISTINCT FROM wanted.statement_timeout THEN
    PERFORM pg_catalog.set_config('statement_timeout', wanted.statement_timeout, true);
  END IF;
  IF pg_catalog.current_setting('idle_in_transaction_session_timeout')
       IS DISTINCT FROM wanted.idle_in_transaction_session_timeout THEN
    PERFORM pg_catalog.set_config('idle_in_transaction_session_timeout',
                                  wanted.idle_in_transaction_session_timeout, true);
  END IF;
  -- The socket's settings show what the socket does, not what was set: set, as written, not
  -- compared (a value unchanged costs no system call).
  PERFORM pg_catalog.set_config('tcp_keepalives_count', wanted.tcp_keepalives_count, true);
  PERFORM pg_catalog.set_config('tcp_keepalives_idle', wanted.tcp_keepalives_idle, true);
  PERFORM pg_catalog.set_config('tcp_keepalives_interval', wanted.tcp_keepalives_interval, true);
  PERFORM pg_catalog.set_config('tcp_user_timeout', wanted.tcp_user_timeout, true);
  -- The application takes only transaction-level advisory locks: a session-level one is a
  -- session's leftover.
  PERFORM pg_catalog.pg_advisory_unlock_all();
  -- The rest compared at once, zipped in the select list (a function scan would first copy
  -- both arrays into a tuplestore, twice the time); set, and said, only when one differs.
  IF EXISTS (
       SELECT FROM (SELECT pg_catalog.unnest(wanted.names) AS name,
                           pg_catalog.unnest(wanted.values_shown) AS value) AS s
        WHERE COALESCE(pg_catalog.current_setting(s.name, true), '') IS DISTINCT FROM s.value) THEN
    SELECT pg_catalog.string_agg(s.name, ', ' ORDER BY s.name) INTO set_again
      FROM (SELECT pg_catalog.unnest(wanted.names) AS name,
                   pg_catalog.unnest(wanted.values_shown) AS value) AS s
     WHERE COALESCE(pg_catalog.current_setting(s.name, true), '') IS DISTINCT FROM s.value;
    PERFORM pg_catalog.set_config(s.name, s.value, true)
       FROM (SELECT pg_catalog.unnest(wanted.names) AS name,
                    pg_catalog.unnest(wanted.values_shown) AS value) AS s
      WHERE COALESCE(pg_catalog.current_setting(s.name, true), '') IS DISTINCT FROM s.value;
    -- Said to a role the deployment makes, which has its own row (the owner's own tools run
    -- this too, with defaults of their own): its connection logs it once
    -- (wellapi.store.notices).
    IF wanted.role <> '' THEN
      RAISE NOTICE 'set again for this transaction: %', set_again USING ERRCODE = 'WS001';
    END IF;
  END IF;
END
$$;

CREATE FUNCTION well_private.record_settings() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
-- Each role's own defaults set in the catalog as the deployment declares them
-- (well_private.role_defaults), whatever a role set for itself before; then what every
-- transaction of each role sets again (core_api.transaction_settings) and the bounds beyond which
-- its sessions count as stalled (well_private.session_bounds), from this server's settings and
-- the declared defaults, never from the catalog's. Run by the baseline, and again by a migration
-- that changes the declared defaults and after a major upgrade. The SET clause undoes, at the
-- function's exit, every setting it sets to learn how a value shows.
DECLARE
  -- A transaction's isolation and access mode (its BEGIN names them), who it runs as (no
  -- transaction changes it), the client's name: never set by a transaction.
  not_set CONSTANT text[] := ARRAY['transaction_isolation', 'transaction_read_only',
    'transaction_deferrable', 'role', 'session_authorization', 'application_name'];
  timers CONSTANT text[] := ARRAY['transaction_timeout', 'statement_timeout',
    'idle_in_transaction_session_timeout'];
  socket CONSTANT text[] := ARRAY['tcp_keepalives_count', 'tcp_keepalives_idle',
    'tcp_keepalives_interval', 'tcp_user_timeout'];
  -- The settings the application's functions read, each empty until a statement sets it.
  own CONSTANT text[] := ARRAY['well.scope', 'well.proof', 'well.change', 'well.person_pk',
    'well.principal_kind', 'well.workspace_pk', 'well.workspace_connector_pks'];
  role_name text;
  restore record;
BEGIN
  FOR restore IN SELECT * FROM core_api.role_defaults_to_restore() LOOP
    FOR attempt IN 1..3 LOOP
      BEGIN
        EXECUTE restore.statement;
        EXIT;
      EXCEPTION WHEN internal_error THEN
        -- Another database's healer or migration changed the same every-database row first
        -- ("tuple concurrently updated"): the statement, run again, finds it as it is now.
        IF attempt = 3 THEN RAISE; END IF;
      END;
    END LOOP;
  END LOOP;
  DELETE FROM core_api.transaction_settings;
  FOR role_name IN SELECT DISTINCT d.role FROM well_private.role_defaults d UNION ALL SELECT '' LOOP
    INSERT INTO core_api.transaction_settings
    WITH server AS (
      -- What a session starts with on this server, for every setting a role may change.
      SELECT s.name, CASE s.name WHEN 'search_path' THEN 'pg_catalog, pg_temp'
                                 WHEN 'client_encoding' THEN 'UTF8' ELSE s.reset_val END AS value
        FROM pg_settings s
       WHERE s.context = 'user' AND s.name <> ALL (not_set)
    ), role_own AS (
      -- The role's declared defaults, for every database, then for this one (which wins).
      SELECT DISTINCT ON (split_part(item, '=', 1))
             split_part(item, '=', 1) AS name, substr(item, strpos(item, '=') + 1) AS value
        FROM well_private.role_defaults d
       CROSS JOIN unnest(d.settings) AS item
       WHERE d.role = role_name
       ORDER BY split_part(item, '=', 1), d.in_database DESC
    ), written AS (
      SELECT server.name, COALESCE(role_own.value, server.value) AS value
        FROM server LEFT JOIN role_own USING (name)
    ), shown AS (
      -- As current_setting shows it once set (4MB, not 4096): what a transaction compares.
      SELECT w.name, w.value AS written, set_config(w.name, w.value, true) AS value
        FROM written w
    )
    SELECT role_name,
           (SELECT value FROM shown WHERE name = 'transaction_timeout'),
           (SELECT value FROM shown WHERE name = 'statement_timeout'),
           (SELECT value FROM shown WHERE name = 'idle_in_transaction_session_timeout'),
           (SELECT written FROM shown WHERE name = 'tcp_keepalives_count'),
           (SELECT written FROM shown WHERE name = 'tcp_keepalives_idle'),
           (SELECT written FROM shown WHERE name = 'tcp_keepalives_interval'),
           (SELECT written FROM shown WHERE name = 'tcp_user_timeout'),
           (SELECT array_agg(name ORDER BY name COLLATE "C") FROM shown
             WHERE name <> ALL (timers || socket)) || own,
           (SELECT array_agg(value ORDER BY name COLLATE "C") FROM shown
             WHERE name <> ALL (timers || socket)) || array_fill(''::text, ARRAY[cardinality(own)]);
  END LOOP;
  -- Per role, what its own timeouts allow (a statement, a transaction idle): a role may lift
  -- its own defaults, never this table.
  DELETE FROM well_private.session_bounds;
  INSERT INTO well_private.session_bounds (role, statement_bound, idle_bound)
  SELECT t.role, nullif(t.statement_timeout, '0')::interval,
         nullif(t.idle_in_transaction_session_timeout, '0')::interval
    FROM core_api.transaction_settings t
   WHERE t.role <> '';
END
$$;
