-- Functions: the periods of the provenance ledgers. A ledger is range-partitioned on its public
-- id, a version 7 UUID whose first 48 bits are the Unix milliseconds of its row's created_at
-- (RFC 9562): a period of time is a range of ids, a List in created_at order is a List in id
-- order, and a Retrieve by id reads the one partition its id names
-- (docs/design.md, "Ledger periods"). A period is made ahead of its time by the sweeper
-- (core_api.make_ledger_periods_ahead()), never by a request; a row whose id has no period is
-- refused ("no partition of relation ... found for row", check_violation with no constraint).

CREATE FUNCTION core_api.uuid_time(p_id uuid) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    -- Milliseconds only: the interval has no days or months, so no time zone moves the sum.
    RETURN 'epoch'::timestamptz
      + ('x' || pg_catalog.encode(pg_catalog.substr(pg_catalog.uuid_send(p_id), 1, 6), 'hex'))::bit(48)::bigint
        * interval '1 millisecond';

CREATE FUNCTION core_api.uuid_floor(p_time timestamp with time zone) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    -- The least id of the millisecond p_time falls in: the bound of a period that starts then.
    -- Before 1970 every id is after it, and from the year 10889 (48 bits of milliseconds) none.
    RETURN CASE
      WHEN p_time < 'epoch'::timestamptz THEN '00000000-0000-0000-0000-000000000000'::uuid
      WHEN p_time >= 'epoch'::timestamptz + 281474976710656 * interval '1 millisecond'
        THEN 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
      ELSE (pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.floor(EXTRACT(epoch FROM p_time) * 1000)::bigint), 12, '0')
            || '00000000000000000000')::uuid
    END;

CREATE FUNCTION core_api.uuid_v7_at(p_time timestamp with time zone) RETURNS uuid
    LANGUAGE sql PARALLEL SAFE
    -- A version 7 UUID of the millisecond p_time falls in, the rest random.
    BEGIN ATOMIC
 SELECT (encode(set_bit(set_bit(OVERLAY(uuid_send(gen_random_uuid()) PLACING SUBSTRING(int8send((floor((EXTRACT(epoch FROM p_time) * (1000)::numeric)))::bigint) FROM 3) FROM 1 FOR 6), (52)::bigint, 1), (53)::bigint, 1), 'hex'::text))::uuid AS encode;
END;

CREATE FUNCTION well_private.ledger_period_length(p_period text) RETURNS interval
    LANGUAGE sql IMMUTABLE STRICT
    -- A period's length by its name (an interval has no quarters); NULL for another name.
    RETURN CASE p_period WHEN 'year' THEN interval '1 year' WHEN 'quarter' THEN interval '3 months'
                         WHEN 'month' THEN interval '1 month' END;

CREATE FUNCTION well_private.make_ledger_periods(p_period text, p_from timestamp with time zone, p_through timestamp with time zone)
    RETURNS TABLE(ledger text, starts_at timestamp with time zone, ends_at timestamp with time zone)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET lock_timeout TO '2s'
    AS $$
-- Every ledger's periods made, one partition a period, so that together they cover p_from to
-- p_through: before its first period and after its last, aligned to p_period ('year',
-- 'quarter' or 'month', in UTC; a period after a change of length ends at the next boundary
-- of the new length). Answers each period made. Making a partition locks its ledger briefly
-- (ACCESS EXCLUSIVE): lock_timeout lets a long reader win, and the next run makes it.
DECLARE
  v_step interval;
  v_ledger text;
  v_first timestamptz;
  v_last timestamptz;
  v_start timestamptz;
BEGIN
  IF p_period NOT IN ('year', 'quarter', 'month') THEN
    RAISE EXCEPTION 'a ledger period is a year, a quarter or a month, not %', p_period
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_from IS NULL OR p_through IS NULL OR p_from > p_through THEN
    RAISE EXCEPTION 'ledger periods are made from a time through a later one, not % through %',
      p_from, p_through USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_step := well_private.ledger_period_length(p_period);
  FOR v_ledger IN
    SELECT c.record_type || '_workspace_connectors' FROM well_private.change_types c
     WHERE c.record_type IS NOT NULL ORDER BY 1
  LOOP
    SELECT min(p.starts_at), max(p.ends_at) INTO v_first, v_last
      FROM core_api.ledger_periods p WHERE p.ledger = v_ledger;
    IF v_first IS NULL THEN
      v_first := date_trunc(p_period, p_from, 'UTC');
      v_last := v_first;
    END IF;
    WHILE v_first > p_from LOOP
      v_start := date_trunc(p_period, v_first - interval '1 microsecond', 'UTC');
      PERFORM well_private.make_ledger_period(v_ledger, v_start, v_first);
      RETURN QUERY SELECT v_ledger, v_start, v_first;
      v_first := v_start;
    END LOOP;
    WHILE v_last <= p_through LOOP
      v_start := v_last;
      v_last := date_trunc(p_period, v_start + v_step, 'UTC');
      PERFORM well_private.make_ledger_period(v_ledger, v_start, v_last);
      RETURN QUERY SELECT v_ledger, v_start, v_last;
    END LOOP;
  END LOOP;
END
$$;

CREATE FUNCTION well_private.make_ledger_period(p_ledger text, p_starts_at timestamp with time zone, p_ends_at timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
-- One period of p_ledger: its partition, the ids of p_starts_at to p_ends_at, under the
-- ledger's policies (no role but the owner may read a partition by its name, and row-level
-- security is on in it too), and its row in core_api.ledger_periods.
--
-- A record's rows are planned as a busy record's, a thousandth of its period (n_distinct):
-- a List of one record reads a page from each period in id order, where a plan that believed
-- a record holds a handful would read all its rows and sort them (an analysed empty period, the
-- one made ahead, costs its sequential scan nothing, and tips it).
DECLARE
  v_name text := p_ledger || '_p' || to_char(p_starts_at AT TIME ZONE 'UTC', 'YYYYMMDD');
BEGIN
  EXECUTE format('CREATE TABLE core_api.%I PARTITION OF core_api.%I FOR VALUES FROM (%L) TO (%L) '
                 'WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01)',
                 v_name, p_ledger, core_api.uuid_floor(p_starts_at), core_api.uuid_floor(p_ends_at));
  EXECUTE format('ALTER TABLE core_api.%I ALTER COLUMN %I SET (n_distinct = -0.001)',
                 v_name, replace(p_ledger, '_workspace_connectors', '_pk'));
  EXECUTE format('ALTER TABLE core_api.%I ENABLE ROW LEVEL SECURITY', v_name);
  EXECUTE format('REVOKE ALL ON TABLE core_api.%I FROM PUBLIC', v_name);
  INSERT INTO core_api.ledger_periods (ledger, starts_at, ends_at, partition_name)
  VALUES (p_ledger, p_starts_at, p_ends_at, v_name);
END
$$;

CREATE FUNCTION core_api.make_ledger_periods_ahead(p_period text, p_ahead integer) RETURNS TABLE(ledger text, starts_at timestamp with time zone, ends_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
-- The sweeper's, every run: the periods that cover now and p_ahead (1 to 3) periods after it,
-- made where they are missing. Never a period in the past.
BEGIN
  IF p_ahead IS NULL OR p_ahead NOT BETWEEN 1 AND 3 THEN
    RAISE EXCEPTION 'ledger periods are made 1 to 3 periods ahead, not %', p_ahead
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY SELECT m.ledger, m.starts_at, m.ends_at
    FROM well_private.make_ledger_periods(p_period, now(),
                                          now() + p_ahead * well_private.ledger_period_length(p_period)) m;
END
$$;

CREATE FUNCTION core_api.ledger_seconds_ahead() RETURNS double precision
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- How long from now until a ledger's new ids have no period, the least over the ledgers (0
  -- for a ledger with none): what the sweeper reports (LedgerPeriodSecondsAhead, alarmed on).
  SELECT min(coalesce(EXTRACT(epoch FROM (SELECT max(p.ends_at) FROM core_api.ledger_periods p
                                          WHERE p.ledger = c.record_type || '_workspace_connectors')
                                         - now()), 0))::double precision
    FROM well_private.change_types c WHERE c.record_type IS NOT NULL
$$;

CREATE FUNCTION core_api.archived_period_of(p_ledger text, p_id uuid)
    RETURNS TABLE(starts_at timestamp with time zone, ends_at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- The period of p_ledger that a version 7 id's time falls in, when the archive took it
  -- (or is taking it: detached): what a request for an id no longer served is answered with,
  -- 410 PERIOD_ARCHIVED (docs/archive.md). None for an id of another version, whose bits name
  -- no time. Whether such a row existed is not known, so nothing of any tenant is told.
  SELECT p.starts_at, p.ends_at FROM core_api.ledger_periods p
   WHERE p.ledger = p_ledger AND p.detached_at IS NOT NULL
     AND substr(p_id::text, 15, 1) = '7'
     AND p.starts_at <= core_api.uuid_time(p_id) AND core_api.uuid_time(p_id) < p.ends_at
$$;

CREATE FUNCTION core_api.archived_before(p_ledger text) RETURNS timestamp with time zone
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- The end of p_ledger's newest archived (or detached) period, NULL for none: a List covers
  -- the rows created from then on, and says so (meta.archived_before; docs/archive.md).
  SELECT max(p.ends_at) FROM core_api.ledger_periods p
   WHERE p.ledger = p_ledger AND p.detached_at IS NOT NULL
$$;
