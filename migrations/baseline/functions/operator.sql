-- Functions: the operator's actions (wellapi.handlers.operator; docs/deploy.md,
-- "The first answer"). Each core_api.operator_*() is one action in the caller's transaction, a
-- security definer that well_operator may run, which reads and writes no table itself. Each
-- writes what it changed and its change records (actor 'operator') together; an API key's
-- secret never reaches the database (only its prefix and the SHA-256 of its secret, which the
-- operator function makes), and no record holds its hash. Each answers what it did as a JSON
-- object, and may be called again with the same values after a connection dropped: the caller
-- chooses every id it makes, and a key is found again by its prefix and hash. Refused: WO404,
-- an id that names no live row; WO409, a write that cannot be made as asked.

CREATE FUNCTION well_private.record_operator_change(p_workspace_pk bigint, p_resource_type text, p_change text, p_id uuid, p_detail jsonb) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, detail,
                                       occurred_at, actor_kind)
  VALUES (p_workspace_pk, p_resource_type, p_change, ARRAY[p_id], p_detail, now(), 'operator')
$$;

CREATE FUNCTION well_private.live_workspace_pk(p_workspace_id uuid) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint;
BEGIN
  SELECT w.pk INTO v_pk FROM core_api.workspaces w
   WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL;
  IF v_pk IS NULL THEN
    RAISE EXCEPTION 'no live workspace %', p_workspace_id USING ERRCODE = 'WO404';
  END IF;
  RETURN v_pk;
END
$$;

-- A workspace named p_name, under p_workspace_id when given; the live workspace of that id is
-- answered as it is (created false), so the same call made again changes nothing.
CREATE FUNCTION core_api.operator_make_workspace(p_name text, p_workspace_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint;
  v_id uuid;
BEGIN
  SELECT w.pk, w.workspace_id INTO v_pk, v_id FROM core_api.workspaces w
   WHERE w.workspace_id = p_workspace_id AND w.deleted_at IS NULL;
  IF v_pk IS NOT NULL THEN
    RETURN jsonb_build_object('workspace_id', v_id, 'created', false);
  END IF;
  INSERT INTO core_api.workspaces (workspace_id, name)
  VALUES (coalesce(p_workspace_id, gen_random_uuid()), p_name)
  RETURNING pk, workspace_id INTO v_pk, v_id;
  PERFORM well_private.record_operator_change(v_pk, 'workspace', 'created', v_id,
                                              jsonb_build_object('name', p_name));
  RETURN jsonb_build_object('workspace_id', v_id, 'created', true);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'the id % is a deleted workspace''s', p_workspace_id USING ERRCODE = 'WO409';
END
$$;

-- A person with an active membership of role p_role in the workspace: the person of
-- p_person_id (made in this workspace, named p_full_name, when no live person has that id), its
-- membership made, or made active with that role.
CREATE FUNCTION core_api.operator_add_person(p_workspace_id uuid, p_full_name text, p_role text, p_person_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_workspace bigint := well_private.live_workspace_pk(p_workspace_id);
  v_person bigint;
  v_person_id uuid;
  v_member record;
  v_detail jsonb;
BEGIN
  SELECT p.pk, p.person_id INTO v_person, v_person_id FROM core_api.peoples p
   WHERE p.person_id = p_person_id AND p.deleted_at IS NULL;
  IF v_person IS NULL THEN
    INSERT INTO core_api.peoples (person_id, workspace_pk, full_name)
    VALUES (coalesce(p_person_id, gen_random_uuid()), v_workspace, p_full_name)
    RETURNING pk, person_id INTO v_person, v_person_id;
    PERFORM well_private.record_operator_change(v_workspace, 'people', 'created', v_person_id,
                                                jsonb_build_object('workspace', p_workspace_id));
  END IF;
  v_detail := jsonb_build_object('person', v_person_id, 'workspace', p_workspace_id,
                                 'role', p_role, 'status', 'active');
  SELECT m.pk, m.membership_id, m.role::text AS role, m.status::text AS status INTO v_member
    FROM core_api.memberships m
   WHERE m.person_pk = v_person AND m.workspace_pk = v_workspace AND m.deleted_at IS NULL
     FOR UPDATE;
  IF v_member.pk IS NULL THEN
    INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status)
    VALUES (v_workspace, v_person, p_role::core_api.membership_role_enum, 'active')
    RETURNING pk, membership_id, role::text, status::text INTO v_member;
    PERFORM well_private.record_operator_change(v_workspace, 'membership', 'created',
                                                v_member.membership_id, v_detail);
  ELSIF (v_member.role, v_member.status) IS DISTINCT FROM (p_role, 'active') THEN
    UPDATE core_api.memberships
       SET role = p_role::core_api.membership_role_enum, status = 'active'
     WHERE pk = v_member.pk;
    PERFORM well_private.record_operator_change(v_workspace, 'membership', 'changed',
                                                v_member.membership_id, v_detail);
  END IF;
  RETURN jsonb_build_object('person_id', v_person_id, 'membership_id', v_member.membership_id,
                            'workspace_id', p_workspace_id, 'role', p_role);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'the id % is a deleted person''s', p_person_id USING ERRCODE = 'WO409';
END
$$;

-- A workspace connector of the catalog's connector p_connector_name of p_provider (the catalog's
-- made when it has none), under p_workspace_connector_id when given; the live one of that id in
-- this workspace is answered as it is (created false).
CREATE FUNCTION core_api.operator_add_workspace_connector(p_workspace_id uuid, p_connector_name text, p_provider text, p_status text, p_workspace_connector_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_workspace bigint := well_private.live_workspace_pk(p_workspace_id);
  v_found record;
  v_connector bigint;
  v_connector_id uuid;
  v_id uuid;
BEGIN
  SELECT wc.workspace_pk, wc.workspace_connector_id INTO v_found
    FROM core_api.workspace_connectors wc
   WHERE wc.workspace_connector_id = p_workspace_connector_id AND wc.deleted_at IS NULL;
  IF v_found.workspace_pk = v_workspace THEN
    RETURN jsonb_build_object('workspace_connector_id', v_found.workspace_connector_id,
                              'created', false);
  ELSIF v_found.workspace_pk IS NOT NULL THEN
    RAISE EXCEPTION 'the workspace connector % is another workspace''s', p_workspace_connector_id
      USING ERRCODE = 'WO409';
  END IF;
  SELECT c.pk, c.connector_id INTO v_connector, v_connector_id FROM core_api.connectors c
   WHERE c.name = p_connector_name
     AND c.provider = p_provider::core_api.connector_provider_enum AND c.deleted_at IS NULL
   ORDER BY c.pk LIMIT 1;
  IF v_connector IS NULL THEN
    INSERT INTO core_api.connectors (name, provider)
    VALUES (p_connector_name, p_provider::core_api.connector_provider_enum)
    RETURNING pk, connector_id INTO v_connector, v_connector_id;
  END IF;
  INSERT INTO core_api.workspace_connectors (workspace_connector_id, workspace_pk, connector_pk,
                                             status)
  VALUES (coalesce(p_workspace_connector_id, gen_random_uuid()), v_workspace, v_connector,
          p_status::core_api.workspace_connector_status_enum)
  RETURNING workspace_connector_id INTO v_id;
  PERFORM well_private.record_operator_change(v_workspace, 'workspace_connector', 'created', v_id,
    jsonb_build_object('connector', v_connector_id, 'provider', p_provider, 'status', p_status));
  RETURN jsonb_build_object('workspace_connector_id', v_id, 'connector_id', v_connector_id,
                            'created', true);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'the id % is a deleted workspace connector''s', p_workspace_connector_id
    USING ERRCODE = 'WO409';
END
$$;

-- What a key of that prefix and hash was issued as (NULL: none is): a call made again after its
-- commit, whose connection dropped before the answer, answers the same key.
CREATE FUNCTION well_private.issued_api_key(p_prefix text, p_secret_hash bytea) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT r.detail || jsonb_build_object('api_key_id', k.api_key_id, 'expires_at', k.expires_at)
    FROM core_api.api_keys k
    JOIN core_api.change_records r
      ON r.workspace_pk = k.workspace_pk AND r.resource_type = 'api_key' AND r.change = 'issued'
     AND r.ids = ARRAY[k.api_key_id]
   WHERE k.prefix = p_prefix AND k.secret_hash = p_secret_hash
$$;

-- An API key row: for a member key, its person must be an active member of its workspace (a key
-- that would get 403 on every request is refused). Recorded as issued, without its hash.
CREATE FUNCTION well_private.insert_api_key(p_workspace_pk bigint, p_person_pk bigint, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer, p_replaces uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_key record;
  v_detail jsonb := well_private.issued_api_key(p_prefix, p_secret_hash);
BEGIN
  IF v_detail IS NOT NULL THEN
    RETURN v_detail;
  END IF;
  IF p_kind = 'member' AND NOT EXISTS (
       SELECT FROM core_api.memberships m
        WHERE m.person_pk = p_person_pk AND m.workspace_pk = p_workspace_pk
          AND m.status = 'active' AND m.deleted_at IS NULL) THEN
    RAISE EXCEPTION 'the person has no active membership in the workspace: a member key would get 403'
      USING ERRCODE = 'WO409';
  END IF;
  INSERT INTO core_api.api_keys (name, prefix, secret_hash, person_pk, workspace_pk, kind,
                                 expires_at)
  VALUES (p_name, p_prefix, p_secret_hash, p_person_pk, p_workspace_pk,
          p_kind::core_api.api_key_kind_enum, now() + make_interval(secs => p_expires_in_seconds))
  RETURNING api_key_id, expires_at INTO v_key;
  v_detail := jsonb_strip_nulls(jsonb_build_object(
    'person', (SELECT p.person_id FROM core_api.peoples p WHERE p.pk = p_person_pk),
    'name', p_name, 'kind', p_kind, 'prefix', p_prefix, 'expires_at', v_key.expires_at,
    'replaces', p_replaces));
  PERFORM well_private.record_operator_change(p_workspace_pk, 'api_key', 'issued', v_key.api_key_id,
                                              v_detail);
  RETURN v_detail || jsonb_build_object('api_key_id', v_key.api_key_id,
                                        'expires_at', v_key.expires_at);
END
$$;

-- An API key of the person for the workspace: prefix and hash made by the caller, whose key is
-- shown once, to its caller alone; it expires p_expires_in_seconds from now (NULL: never).
CREATE FUNCTION core_api.operator_issue_key(p_workspace_id uuid, p_person_id uuid, p_kind text, p_name text, p_prefix text, p_secret_hash bytea, p_expires_in_seconds integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_workspace bigint := well_private.live_workspace_pk(p_workspace_id);
  v_person bigint;
BEGIN
  SELECT p.pk INTO v_person FROM core_api.peoples p
   WHERE p.person_id = p_person_id AND p.deleted_at IS NULL;
  IF v_person IS NULL THEN
    RAISE EXCEPTION 'no live person %', p_person_id USING ERRCODE = 'WO404';
  END IF;
  RETURN well_private.insert_api_key(v_workspace, v_person, p_kind, p_name, p_prefix,
                                     p_secret_hash, p_expires_in_seconds, NULL);
END
$$;

-- The live key of that id or prefix, locked; WO404 when there is none.
CREATE FUNCTION well_private.locked_api_key_pk(p_api_key_id uuid, p_prefix text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint;
BEGIN
  SELECT k.pk INTO v_pk FROM core_api.api_keys k
   WHERE (k.api_key_id = p_api_key_id OR k.prefix = p_prefix) AND k.deleted_at IS NULL
     FOR UPDATE;
  IF v_pk IS NULL THEN
    RAISE EXCEPTION 'no API key with id or prefix %', coalesce(p_api_key_id::text, p_prefix)
      USING ERRCODE = 'WO404';
  END IF;
  RETURN v_pk;
END
$$;

-- A key revoked: it stops working within the authorizer's cache (30 s). One revoked already is
-- answered as it is (revoked false).
CREATE FUNCTION core_api.operator_revoke_key(p_api_key_id uuid, p_prefix text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint := well_private.locked_api_key_pk(p_api_key_id, p_prefix);
  v_key core_api.api_keys;
  v_answer jsonb;
BEGIN
  SELECT * INTO v_key FROM core_api.api_keys k WHERE k.pk = v_pk;
  v_answer := jsonb_build_object('api_key_id', v_key.api_key_id, 'prefix', v_key.prefix);
  IF v_key.revoked_at IS NOT NULL THEN
    RETURN v_answer || jsonb_build_object('revoked', false, 'revoked_at', v_key.revoked_at);
  END IF;
  UPDATE core_api.api_keys SET revoked_at = now() WHERE pk = v_key.pk;
  PERFORM well_private.record_operator_change(v_key.workspace_pk, 'api_key', 'revoked',
    v_key.api_key_id,
    jsonb_build_object('name', v_key.name, 'kind', v_key.kind, 'prefix', v_key.prefix));
  RETURN v_answer || jsonb_build_object('revoked', true, 'revoked_at', now());
END
$$;

-- A live, unrevoked key replaced: a new one for the same person, workspace, kind and name
-- (prefix and hash made by the caller), and the old one revoked, together.
CREATE FUNCTION core_api.operator_rotate_key(p_api_key_id uuid, p_prefix text, p_new_prefix text, p_new_secret_hash bytea, p_expires_in_seconds integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_pk bigint := well_private.locked_api_key_pk(p_api_key_id, p_prefix);
  v_old core_api.api_keys;
  v_new jsonb;
BEGIN
  SELECT * INTO v_old FROM core_api.api_keys k WHERE k.pk = v_pk;
  v_new := well_private.issued_api_key(p_new_prefix, p_new_secret_hash);
  IF v_new ->> 'replaces' = v_old.api_key_id::text THEN
    RETURN v_new;
  END IF;
  IF v_old.revoked_at IS NOT NULL THEN
    RAISE EXCEPTION 'the API key % is revoked', v_old.prefix USING ERRCODE = 'WO409';
  END IF;
  v_new := well_private.insert_api_key(v_old.workspace_pk, v_old.person_pk, v_old.kind::text,
    v_old.name, p_new_prefix, p_new_secret_hash, p_expires_in_seconds, v_old.api_key_id);
  UPDATE core_api.api_keys SET revoked_at = now() WHERE pk = v_old.pk;
  PERFORM well_private.record_operator_change(v_old.workspace_pk, 'api_key', 'revoked',
    v_old.api_key_id, jsonb_build_object('name', v_old.name, 'kind', v_old.kind,
                                         'prefix', v_old.prefix,
                                         'replaced_by', v_new -> 'api_key_id'));
  RETURN v_new;
END
$$;
