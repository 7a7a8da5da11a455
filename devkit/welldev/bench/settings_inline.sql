-- The floor the bench measures the settings procedure written once against (wall.py,
-- ``inline``): the same settings set as core_api.set_transaction_settings() sets them, its
-- values written into the body as constants for every role, as a body generated for each
-- server would have them. Made in the bench's own schema from core_api.transaction_settings.
DO $make$
DECLARE
  api core_api.transaction_settings;
  cases text;
  names text;
BEGIN
  SELECT * INTO STRICT api FROM core_api.transaction_settings WHERE role = 'well_api';
  SELECT string_agg(format('WHEN %L THEN %L::text[]', t.role, t.values_shown), ' ')
    INTO cases FROM core_api.transaction_settings t WHERE t.role <> '';
  names := quote_literal(api.names::text) || '::text[]';
  EXECUTE format($body$
CREATE PROCEDURE bench_wall.set_settings_inline() LANGUAGE plpgsql AS $proc$
BEGIN
  %9$s
  IF pg_catalog.current_setting('statement_timeout') IS DISTINCT FROM %1$L THEN
    PERFORM pg_catalog.set_config('statement_timeout', %1$L, true);
  END IF;
  IF pg_catalog.current_setting('idle_in_transaction_session_timeout') IS DISTINCT FROM %2$L THEN
    PERFORM pg_catalog.set_config('idle_in_transaction_session_timeout', %2$L, true);
  END IF;
  PERFORM pg_catalog.set_config('tcp_keepalives_count', %3$L, true);
  PERFORM pg_catalog.set_config('tcp_keepalives_idle', %4$L, true);
  PERFORM pg_catalog.set_config('tcp_keepalives_interval', %5$L, true);
  PERFORM pg_catalog.set_config('tcp_user_timeout', %6$L, true);
  PERFORM pg_catalog.pg_advisory_unlock_all();
  IF EXISTS (
       SELECT FROM (SELECT pg_catalog.unnest(%7$s) AS name,
                           pg_catalog.unnest(CASE CURRENT_USER %8$s END) AS value) AS s
        WHERE COALESCE(pg_catalog.current_setting(s.name, true), '') IS DISTINCT FROM s.value) THEN
    PERFORM pg_catalog.set_config(s.name, s.value, true)
       FROM (SELECT pg_catalog.unnest(%7$s) AS name,
                    pg_catalog.unnest(CASE CURRENT_USER %8$s END) AS value) AS s
      WHERE COALESCE(pg_catalog.current_setting(s.name, true), '') IS DISTINCT FROM s.value;
  END IF;
END
$proc$
  $body$, api.statement_timeout, api.idle_in_transaction_session_timeout,
    api.tcp_keepalives_count, api.tcp_keepalives_idle, api.tcp_keepalives_interval,
    api.tcp_user_timeout, names, cases,
    CASE WHEN api.transaction_timeout IS NULL THEN '' ELSE format(
      'IF pg_catalog.current_setting(''transaction_timeout'') IS DISTINCT FROM %1$L THEN '
      'PERFORM pg_catalog.set_config(''transaction_timeout'', %1$L, true); END IF;',
      api.transaction_timeout) END);
END
$make$;
