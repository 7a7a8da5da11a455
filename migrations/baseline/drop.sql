-- What the baseline made, taken away (its downgrade): every object of core_api but Alembic's
-- version table, schema well_private, the roles' settings in this database and the database's
-- grant of temporary tables. The roles stay: they are the server's, and may serve another
-- database.
DO $$
DECLARE
  object record;
BEGIN
  FOR object IN
    SELECT format('DROP TABLE %s CASCADE', c.oid::regclass) AS statement
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'core_api'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname <> 'alembic_version'
    UNION ALL
    SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure)
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = 'core_api'::regnamespace
    UNION ALL
    SELECT format('DROP TYPE %s CASCADE', t.oid::regtype)
      FROM pg_catalog.pg_type t
     WHERE t.typnamespace = 'core_api'::regnamespace AND t.typtype = 'e'
  LOOP
    EXECUTE object.statement;
  END LOOP;
  EXECUTE format('ALTER ROLE well_api IN DATABASE %I RESET ALL', current_database());
  EXECUTE format('ALTER ROLE well_sync IN DATABASE %I RESET ALL', current_database());
  EXECUTE format('ALTER ROLE well_auth IN DATABASE %I RESET ALL', current_database());
  EXECUTE format('ALTER ROLE well_drain IN DATABASE %I RESET ALL', current_database());
  EXECUTE format('ALTER ROLE well_heal IN DATABASE %I RESET ALL', current_database());
  EXECUTE format('ALTER ROLE well_operator IN DATABASE %I RESET ALL', current_database());
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END
$$;
DROP SCHEMA well_private CASCADE;
REVOKE ALL ON SCHEMA core_api FROM well_api, well_sync, well_auth, well_drain, well_heal,
  well_operator;
