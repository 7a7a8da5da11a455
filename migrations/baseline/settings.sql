-- Each role's own defaults, declared: what the deployment gives it in this database (and nothing
-- for every database), as pg_db_role_setting holds a default (name=value). Then set in the
-- catalog and what every transaction sets again written from them
-- (well_private.record_settings()), and kept so by core_api.restore_role_defaults(). Applied
-- last by the baseline revision.
--
-- Timeouts bound each role's statements, lock waits and idle transactions on the server: a
-- client never sends SET. The search path is the one every transaction sets (a transaction
-- then finds it set, and undoes nothing at its end). The planner's random_page_cost suits the
-- SSD storage of RDS for the roles whose plans read the large tables. The API role keeps one
-- generic plan per statement (its statements' plans do not depend on their values; the bench
-- shows each read shape flat from a small tenant to a large one), and neither it, the
-- authorizer nor the operator ever logs a statement's parameters (a key, a proof, a key's
-- hash). The healer's statement bound leaves its scheduled function time for its own job.
INSERT INTO well_private.role_defaults (role, in_database, settings) VALUES
  ('well_api', true, ARRAY[
    'statement_timeout=5s',
    'lock_timeout=2s',
    'idle_in_transaction_session_timeout=10s',
    'random_page_cost=1.1',
    'search_path=pg_catalog, pg_temp',
    'log_parameter_max_length=0',
    'log_parameter_max_length_on_error=0',
    'plan_cache_mode=force_generic_plan']),
  ('well_sync', true, ARRAY[
    'statement_timeout=60s',
    'lock_timeout=10s',
    'idle_in_transaction_session_timeout=10s',
    'random_page_cost=1.1',
    'search_path=pg_catalog, pg_temp']),
  ('well_auth', true, ARRAY[
    'statement_timeout=2s',
    'idle_in_transaction_session_timeout=5s',
    'search_path=pg_catalog, pg_temp',
    'log_parameter_max_length=0',
    'log_parameter_max_length_on_error=0']),
  ('well_drain', true, ARRAY[
    'statement_timeout=5s',
    'lock_timeout=2s',
    'idle_in_transaction_session_timeout=60s',
    'search_path=pg_catalog, pg_temp']),
  ('well_heal', true, ARRAY[
    'statement_timeout=20s',
    'lock_timeout=2s',
    'idle_in_transaction_session_timeout=10s',
    'search_path=pg_catalog, pg_temp']),
  ('well_operator', true, ARRAY[
    'statement_timeout=5s',
    'lock_timeout=2s',
    'idle_in_transaction_session_timeout=10s',
    'search_path=pg_catalog, pg_temp',
    'log_parameter_max_length=0',
    'log_parameter_max_length_on_error=0']),
  ('well_api', false, '{}'),
  ('well_sync', false, '{}'),
  ('well_auth', false, '{}'),
  ('well_drain', false, '{}'),
  ('well_heal', false, '{}'),
  ('well_operator', false, '{}');

SELECT well_private.record_settings();
