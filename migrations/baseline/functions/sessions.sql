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

CREATE FUNCTION core_api.restore_role_defaults() RETURNS text[]
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    kept record;
    item text;
    setting text;
    value text;
    altered text;
    restored text[] := '{}';
BEGIN
    FOR kept IN
        SELECT w.role, w.in_database, w.settings AS wanted, coalesce(
            (SELECT s.setconfig FROM pg_db_role_setting s
              WHERE s.setrole = r.oid
                AND s.setdatabase = CASE WHEN w.in_database
                    THEN (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                    ELSE 0 END),
            '{}') AS found
          FROM well_private.role_defaults w JOIN pg_roles r ON r.rolname = w.role
         ORDER BY w.role, w.in_database
    LOOP
        CONTINUE WHEN kept.found @> kept.wanted AND kept.wanted @> kept.found;
        altered := format('ALTER ROLE %I', kept.role)
            || CASE WHEN kept.in_database THEN format(' IN DATABASE %I', current_database())
                    ELSE '' END;
        -- A default the deployment never gave: gone.
        FOREACH item IN ARRAY kept.found LOOP
            setting := split_part(item, '=', 1);
            CONTINUE WHEN EXISTS (SELECT FROM unnest(kept.wanted) w
                                   WHERE split_part(w, '=', 1) = setting);
            EXECUTE altered || format(' RESET %I', setting);
            restored := restored || (kept.role || '.' || setting);
        END LOOP;
        -- A default the deployment gave, changed or gone: set as it was written, so that the
        -- catalog holds the same text again. A list of names is written as the list it is
        -- (quoted, it would be one name); the value is the owner's own, from the table.
        FOREACH item IN ARRAY kept.wanted LOOP
            CONTINUE WHEN item = ANY (kept.found);
            setting := split_part(item, '=', 1);
            value := substr(item, length(setting) + 2);
            EXECUTE altered || format(' SET %I = %s', setting,
                CASE WHEN lower(setting) IN ('search_path', 'temp_tablespaces',
                                             'local_preload_libraries')
                     THEN value ELSE quote_literal(value) END);
            restored := restored || (kept.role || '.' || setting);
        END LOOP;
    END LOOP;
    RETURN restored;
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
    -- Said to an application role (the owner's own tools run this too, with defaults of their
    -- own): its connection logs it once (wellapi.store.notices).
    IF CURRENT_USER IN ('well_api', 'well_sync', 'well_auth', 'well_drain') THEN
      RAISE NOTICE 'set again for this transaction: %', set_again USING ERRCODE = 'WS001';
    END IF;
  END IF;
END
$$;

CREATE FUNCTION well_private.record_role_defaults() RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    INSERT INTO well_private.role_defaults (role, in_database, settings)
    SELECT r.rolname, scope.in_database, coalesce(
        (SELECT s.setconfig FROM pg_db_role_setting s
          WHERE s.setrole = r.oid
            AND s.setdatabase = CASE WHEN scope.in_database
                THEN (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                ELSE 0 END),
        '{}')
      FROM pg_roles r CROSS JOIN (VALUES (true), (false)) AS scope (in_database)
     WHERE r.rolname IN ('well_api', 'well_sync', 'well_auth', 'well_drain')
    ON CONFLICT (role, in_database) DO UPDATE SET settings = excluded.settings;
$$;

CREATE FUNCTION well_private.record_settings() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
-- What every transaction of each application role sets again (core_api.transaction_settings),
-- the bounds beyond which its sessions count as stalled (well_private.session_bounds) and its
-- own defaults as the deployment gave them (well_private.role_defaults), from this server's
-- settings and each role's own. Run by the baseline, and again by a migration that changes a
-- role's settings and after a major upgrade. The SET clause undoes, at the function's exit,
-- every setting it sets to learn how a value shows.
DECLARE
  -- A transaction's isolation and access mode (its BEGIN names them), the role (an application
  -- role is a member of no other), the client's name: never set by a transaction.
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
BEGIN
  DELETE FROM core_api.transaction_settings;
  FOREACH role_name IN ARRAY ARRAY['well_api', 'well_sync', 'well_auth', 'well_drain', ''] LOOP
    INSERT INTO core_api.transaction_settings
    WITH server AS (
      -- What a session starts with on this server, for every setting a role may change.
      SELECT s.name, CASE s.name WHEN 'search_path' THEN 'pg_catalog, pg_temp'
                                 WHEN 'client_encoding' THEN 'UTF8' ELSE s.reset_val END AS value
        FROM pg_settings s
       WHERE s.context = 'user' AND s.name <> ALL (not_set)
    ), role_own AS (
      -- The role's own, for every database, then for this one (which wins).
      SELECT DISTINCT ON (split_part(item, '=', 1))
             split_part(item, '=', 1) AS name, substr(item, strpos(item, '=') + 1) AS value
        FROM pg_db_role_setting d
        JOIN pg_roles r ON r.oid = d.setrole
       CROSS JOIN unnest(d.setconfig) AS item
       WHERE r.rolname = role_name
         AND d.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
       ORDER BY split_part(item, '=', 1), d.setdatabase DESC
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
  PERFORM well_private.record_role_defaults();
END
$$;
