-- The floor the bench measures the wall against (devkit/welldev/bench/wall.py): a scope set
-- from a signed token alone, with no proof bound to the transaction, as the API's set_scope
-- would be without the wall's proofs. Made in the bench's own schema, never in the product's.
CREATE FUNCTION bench_wall.set_scope_unproven(p_token text, p_workspace_id uuid)
RETURNS TABLE (workspace_pk bigint, person_pk bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, core_api, pg_temp
AS $fn$
DECLARE
  v_parts text[] := string_to_array(p_token, '.');
  v_kind text;
  v_person bigint;
  v_workspace bigint;
  v_connectors text;
  v_scope text;
BEGIN
  IF cardinality(v_parts) = 5 AND v_parts[1] = 't1'
     AND v_parts[2] ~ '^[0-9]{1,18}$' AND v_parts[3] IN ('member', 'service')
     AND v_parts[4] ~ '^[0-9]{1,12}$'
     AND v_parts[4]::bigint > extract(epoch FROM clock_timestamp())
     AND v_parts[5] = well_private.mac('token|' || array_to_string(v_parts[1:4], '.')) THEN
    v_kind := v_parts[3];
    SELECT p.pk INTO v_person
      FROM core_api.peoples p
     WHERE p.pk = v_parts[2]::bigint AND p.deleted_at IS NULL;
  END IF;
  IF v_person IS NOT NULL AND v_kind = 'service' THEN
    SELECT w.pk INTO v_workspace
      FROM core_api.workspaces w
     WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL;
  ELSIF v_person IS NOT NULL THEN
    SELECT w.pk INTO v_workspace
      FROM core_api.workspaces w
      JOIN core_api.memberships ms ON ms.workspace_pk = w.pk
     WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL
       AND ms.person_pk = v_person AND ms.status = 'active' AND ms.deleted_at IS NULL;
  END IF;
  IF v_workspace IS NOT NULL THEN
    SELECT string_agg(wc.pk::text, ',' ORDER BY wc.pk) INTO v_connectors
      FROM core_api.workspace_connectors wc WHERE wc.workspace_pk = v_workspace;
    -- Bound to this backend and this transaction: a copy is worth nothing anywhere else.
    v_scope := concat_ws('.', pg_backend_pid(),
                         (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint,
                         v_workspace, v_person, v_kind, coalesce(v_connectors, ''));
    v_scope := v_scope || '.' || well_private.mac('scope|' || v_scope);
  END IF;
  -- No workspace, no scope at all: the request is refused (401 or 403) after this statement,
  -- and the statements sharing its transaction must find nothing, not even by person.
  PERFORM set_config('well.scope', coalesce(v_scope, ''), true);
  PERFORM set_config('well.person_pk', CASE WHEN v_workspace IS NULL THEN '' ELSE v_person::text END, true);
  PERFORM set_config('well.workspace_pk', coalesce(v_workspace::text, ''), true);
  PERFORM set_config('well.workspace_connector_pks', coalesce(v_connectors, ''), true);
  PERFORM set_config('well.principal_kind', CASE WHEN v_workspace IS NULL THEN '' ELSE v_kind END, true);
  RETURN QUERY SELECT v_workspace, v_person;
END
$fn$;
