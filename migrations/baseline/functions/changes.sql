-- Functions: the change records the database writes for every change of a junction, in the
-- statement that makes it, and what the changes feed may answer.

CREATE FUNCTION core_api.record_workspace_group_workspaces() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  c jsonb := NULLIF(current_setting('well.change', true), '')::jsonb;
  k record;
  v_kind text;
  v_person bigint;
  v_run text;
  v_key text;
  v_occurred timestamptz := now();
  v_removal text := 'unenrolled';
BEGIN
  IF cardinality(s) = 7 AND s[1] = pg_backend_pid()::text
     AND s[2] = ((extract(epoch FROM transaction_timestamp()) * 1000000)::bigint)::text THEN
    SELECT inner_key, outer_key INTO k FROM well_private.scope_keys WHERE id = 1;
    IF s[7] = encode(sha256(k.outer_key || sha256(k.inner_key
          || convert_to('scope|' || array_to_string(s[1:6], '.'), 'UTF8'))), 'hex') THEN
      v_kind := NULLIF(s[5], '');
      v_person := NULLIF(s[4], '')::bigint;
    END IF;
  END IF;
  IF v_kind IS NULL OR v_person IS NULL THEN
    v_person := NULL;
    -- A session of the sync role that declares nothing (SQL of its own) is the sync role's still.
    v_kind := CASE WHEN c ->> 'actor' IN ('sync', 'sweep') THEN c ->> 'actor'
                   WHEN session_user = 'well_sync' THEN 'sync' ELSE 'system' END;
    IF v_kind <> 'system' THEN
      v_run := c ->> 'sync_run_id';
      v_key := c ->> 'message_key';
      v_occurred := coalesce((c ->> 'occurred_at')::timestamptz, now());
    END IF;
  END IF;
  IF v_kind = 'sweep' THEN
    v_removal := 'unenrolled';
  END IF;
  IF TG_OP = 'INSERT' THEN
    WITH g AS (SELECT c.change, c.workspace_group_pk, c.workspace_pk, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_group_workspace_id AS id, t.workspace_group_pk, t.workspace_pk, row_number() OVER (PARTITION BY t.change, t.workspace_group_pk, t.workspace_pk ORDER BY t.workspace_group_workspace_id) - 1 AS n
              FROM (SELECT n.*, 'enrolled'::text AS change FROM new_rows n WHERE n.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_group_pk, c.workspace_pk, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_group_workspace', g.change, g.ids, g.record_ids, jsonb_build_object('workspace_group', wg.workspace_group_id, 'workspace', w.workspace_id), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_groups wg WHERE wg.pk = g.workspace_group_pk OFFSET 0) wg CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w;
  ELSIF TG_OP = 'UPDATE' THEN
    IF (SELECT count(*) FROM new_rows) <= 32 THEN
    WITH g AS (SELECT c.change, c.workspace_group_pk, c.workspace_pk, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_group_workspace_id AS id, t.workspace_group_pk, t.workspace_pk, row_number() OVER (PARTITION BY t.change, t.workspace_group_pk, t.workspace_pk ORDER BY t.workspace_group_workspace_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN v_removal WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'enrolled' WHEN n.deleted_at IS NULL AND (o.workspace_group_pk, o.workspace_pk) IS DISTINCT FROM (n.workspace_group_pk, n.workspace_pk) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_group_pk, c.workspace_pk, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_group_workspace', g.change, g.ids, g.record_ids, jsonb_build_object('workspace_group', wg.workspace_group_id, 'workspace', w.workspace_id), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_groups wg WHERE wg.pk = g.workspace_group_pk OFFSET 0) wg CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w;
    ELSE
      EXECUTE $sql$WITH g AS (SELECT c.change, c.workspace_group_pk, c.workspace_pk, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_group_workspace_id AS id, t.workspace_group_pk, t.workspace_pk, row_number() OVER (PARTITION BY t.change, t.workspace_group_pk, t.workspace_pk ORDER BY t.workspace_group_workspace_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN $1 WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'enrolled' WHEN n.deleted_at IS NULL AND (o.workspace_group_pk, o.workspace_pk) IS DISTINCT FROM (n.workspace_group_pk, n.workspace_pk) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_group_pk, c.workspace_pk, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_group_workspace', g.change, g.ids, g.record_ids, jsonb_build_object('workspace_group', wg.workspace_group_id, 'workspace', w.workspace_id), $2, $3, $4, $5, $6
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_groups wg WHERE wg.pk = g.workspace_group_pk OFFSET 0) wg CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w$sql$
        USING v_removal, v_occurred, v_kind, v_person, v_run, v_key;
    END IF;
  ELSE
    WITH g AS (SELECT c.change, c.workspace_group_pk, c.workspace_pk, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_group_workspace_id AS id, t.workspace_group_pk, t.workspace_pk, row_number() OVER (PARTITION BY t.change, t.workspace_group_pk, t.workspace_pk ORDER BY t.workspace_group_workspace_id) - 1 AS n
              FROM (SELECT o.*, v_removal AS change FROM old_rows o WHERE o.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_group_pk, c.workspace_pk, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_group_workspace', g.change, g.ids, g.record_ids, jsonb_build_object('workspace_group', wg.workspace_group_id, 'workspace', w.workspace_id), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspace_groups wg WHERE wg.pk = g.workspace_group_pk OFFSET 0) wg CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w;
  END IF;
  RETURN NULL;
END
$_$;

CREATE FUNCTION core_api.record_workspace_providers() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
  s text[] := string_to_array(current_setting('well.scope', true), '.');
  c jsonb := NULLIF(current_setting('well.change', true), '')::jsonb;
  k record;
  v_kind text;
  v_person bigint;
  v_run text;
  v_key text;
  v_occurred timestamptz := now();
  v_removal text := 'removed';
BEGIN
  IF cardinality(s) = 7 AND s[1] = pg_backend_pid()::text
     AND s[2] = ((extract(epoch FROM transaction_timestamp()) * 1000000)::bigint)::text THEN
    SELECT inner_key, outer_key INTO k FROM well_private.scope_keys WHERE id = 1;
    IF s[7] = encode(sha256(k.outer_key || sha256(k.inner_key
          || convert_to('scope|' || array_to_string(s[1:6], '.'), 'UTF8'))), 'hex') THEN
      v_kind := NULLIF(s[5], '');
      v_person := NULLIF(s[4], '')::bigint;
    END IF;
  END IF;
  IF v_kind IS NULL OR v_person IS NULL THEN
    v_person := NULL;
    -- A session of the sync role that declares nothing (SQL of its own) is the sync role's still.
    v_kind := CASE WHEN c ->> 'actor' IN ('sync', 'sweep') THEN c ->> 'actor'
                   WHEN session_user = 'well_sync' THEN 'sync' ELSE 'system' END;
    IF v_kind <> 'system' THEN
      v_run := c ->> 'sync_run_id';
      v_key := c ->> 'message_key';
      v_occurred := coalesce((c ->> 'occurred_at')::timestamptz, now());
    END IF;
  END IF;
  IF v_kind = 'sweep' THEN
    v_removal := 'removed';
  END IF;
  IF TG_OP = 'INSERT' THEN
    WITH g AS (SELECT c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_provider_id AS id, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched, row_number() OVER (PARTITION BY t.change, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched ORDER BY t.workspace_provider_id) - 1 AS n
              FROM (SELECT n.*, 'selected'::text AS change FROM new_rows n WHERE n.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_provider', g.change, g.ids, g.record_ids, jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, 'is_selected', g.is_selected, 'is_matched', g.is_matched), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w CROSS JOIN LATERAL (SELECT * FROM core_api.providers p WHERE p.pk = g.provider_pk OFFSET 0) p;
  ELSIF TG_OP = 'UPDATE' THEN
    IF (SELECT count(*) FROM new_rows) <= 32 THEN
    WITH g AS (SELECT c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_provider_id AS id, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched, row_number() OVER (PARTITION BY t.change, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched ORDER BY t.workspace_provider_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN v_removal WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'selected' WHEN n.deleted_at IS NULL AND (o.workspace_pk, o.provider_pk, o.is_selected, o.is_matched) IS DISTINCT FROM (n.workspace_pk, n.provider_pk, n.is_selected, n.is_matched) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_provider', g.change, g.ids, g.record_ids, jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, 'is_selected', g.is_selected, 'is_matched', g.is_matched), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w CROSS JOIN LATERAL (SELECT * FROM core_api.providers p WHERE p.pk = g.provider_pk OFFSET 0) p;
    ELSE
      EXECUTE $sql$WITH g AS (SELECT c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_provider_id AS id, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched, row_number() OVER (PARTITION BY t.change, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched ORDER BY t.workspace_provider_id) - 1 AS n
              FROM (SELECT n.*, CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN $1 WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'selected' WHEN n.deleted_at IS NULL AND (o.workspace_pk, o.provider_pk, o.is_selected, o.is_matched) IS DISTINCT FROM (n.workspace_pk, n.provider_pk, n.is_selected, n.is_matched) THEN 'changed' END AS change FROM old_rows o JOIN new_rows n ON n.pk = o.pk) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_provider', g.change, g.ids, g.record_ids, jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, 'is_selected', g.is_selected, 'is_matched', g.is_matched), $2, $3, $4, $5, $6
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w CROSS JOIN LATERAL (SELECT * FROM core_api.providers p WHERE p.pk = g.provider_pk OFFSET 0) p$sql$
        USING v_removal, v_occurred, v_kind, v_person, v_run, v_key;
    END IF;
  ELSE
    WITH g AS (SELECT c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, array_agg(c.id ORDER BY c.id) AS ids, NULL::uuid[] AS record_ids
      FROM (SELECT t.change, t.workspace_provider_id AS id, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched, row_number() OVER (PARTITION BY t.change, t.workspace_pk, t.provider_pk, t.is_selected, t.is_matched ORDER BY t.workspace_provider_id) - 1 AS n
              FROM (SELECT o.*, v_removal AS change FROM old_rows o WHERE o.deleted_at IS NULL) t WHERE t.change IS NOT NULL) c 
     GROUP BY c.change, c.workspace_pk, c.provider_pk, c.is_selected, c.is_matched, c.n / 1000)
    INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind, actor_person_pk, sync_run_id, message_key)
    SELECT g.workspace_pk, 'workspace_provider', g.change, g.ids, g.record_ids, jsonb_build_object('workspace', w.workspace_id, 'provider', p.provider_id, 'is_selected', g.is_selected, 'is_matched', g.is_matched), v_occurred, v_kind, v_person, v_run, v_key
      FROM g CROSS JOIN LATERAL (SELECT * FROM core_api.workspaces w WHERE w.pk = g.workspace_pk OFFSET 0) w CROSS JOIN LATERAL (SELECT * FROM core_api.providers p WHERE p.pk = g.provider_pk OFFSET 0) p;
  END IF;
  RETURN NULL;
END
$_$;
