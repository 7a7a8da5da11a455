-- Each application role's own settings in this database, then what every transaction sets
-- again from them (well_private.record_settings()). Applied last by the baseline revision.
--
-- Timeouts bound each role's statements, lock waits and idle transactions on the server: a
-- client never sends SET. The search path is the one every transaction sets (a transaction
-- then finds it set, and undoes nothing at its end). The planner's random_page_cost suits the
-- SSD storage of RDS for the roles whose plans read the large tables. The API role keeps one
-- generic plan per statement (its statements' plans do not depend on their values; the bench
-- shows each read shape flat from a small tenant to a large one), and neither it nor the
-- authorizer ever logs a statement's parameters (a key, a proof).
DO $$
DECLARE
  setting record;
BEGIN
  FOR setting IN
    SELECT * FROM (VALUES
      ('well_api', 'statement_timeout = ''5s'''),
      ('well_api', 'lock_timeout = ''2s'''),
      ('well_api', 'idle_in_transaction_session_timeout = ''10s'''),
      ('well_api', 'random_page_cost = ''1.1'''),
      ('well_api', 'search_path = pg_catalog, pg_temp'),
      ('well_api', 'log_parameter_max_length = ''0'''),
      ('well_api', 'log_parameter_max_length_on_error = ''0'''),
      ('well_api', 'plan_cache_mode = ''force_generic_plan'''),
      ('well_sync', 'statement_timeout = ''60s'''),
      ('well_sync', 'lock_timeout = ''10s'''),
      ('well_sync', 'idle_in_transaction_session_timeout = ''10s'''),
      ('well_sync', 'random_page_cost = ''1.1'''),
      ('well_sync', 'search_path = pg_catalog, pg_temp'),
      ('well_auth', 'statement_timeout = ''2s'''),
      ('well_auth', 'idle_in_transaction_session_timeout = ''5s'''),
      ('well_auth', 'search_path = pg_catalog, pg_temp'),
      ('well_auth', 'log_parameter_max_length = ''0'''),
      ('well_auth', 'log_parameter_max_length_on_error = ''0'''),
      ('well_drain', 'statement_timeout = ''5s'''),
      ('well_drain', 'lock_timeout = ''2s'''),
      ('well_drain', 'idle_in_transaction_session_timeout = ''60s'''),
      ('well_drain', 'search_path = pg_catalog, pg_temp')
    ) AS s (role_name, clause)
  LOOP
    EXECUTE format('ALTER ROLE %I IN DATABASE %I SET %s',
                   setting.role_name, current_database(), setting.clause);
  END LOOP;
END
$$;

SELECT well_private.record_settings();
