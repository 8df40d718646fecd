import { sql, type Kysely } from 'kysely';

/**
 * The factor stage's results laid out for the day's cross-section: one row per (date, symbol) in
 * `symbol_day_factors`, holding every factor's beta, R², observation count and outcome (a quality
 * flag, or the reason no beta exists), plus the symbol's specific volatility. Before, these were
 * three tall tables (`symbol_factor_exposures`, `symbol_factor_skips`, `symbol_specific_risk`) with
 * one row per (symbol, factor, date), a symbol-first key, a date index and a foreign key checked row by
 * row: a year of betas was 1.5 M rows and the write, not the maths, bounded every backfill.
 *
 * - Per-factor values are arrays subscripted by `factor_definitions.id` (1-based; arrays always start
 *   at subscript 1 and are as long as the largest id the writer knew). Arrays rather than a column
 *   per factor: the model is data (`factor_definitions`), so a new factor needs no DDL; bench:copy
 *   measures both layouts (docs/performance.md).
 * - `outcome` codes: 1 full_history, 2 limited_history, 3 capped (a beta exists); -1
 *   insufficient_observations, -2 missing_proxy, -3 degenerate_factor, -4 degenerate_series (none).
 *   A CHECK keeps the codes in range; no foreign key, so no per-row trigger on the hot table.
 * - Declaratively partitioned by calendar year of `calculation_date`; primary key date-first, so a
 *   date's cross-section is one index range and a replaced range is a delete-by-date. A second index
 *   (symbol, date) serves a symbol's history. `fu_ensure_factor_partitions(from, to)` (SECURITY
 *   DEFINER: the application role has no DDL) creates the years a writer is about to use.
 * - The three old tables stay readable AND writable under their old names and columns, as views
 *   with INSTEAD OF triggers, so older SQL, the dual-write compare and tests keep working.
 */

const OUTCOME_CODES = `
  CREATE FUNCTION fu_outcome_code(name text) RETURNS smallint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE name WHEN 'full_history' THEN 1 WHEN 'limited_history' THEN 2 WHEN 'capped' THEN 3
      WHEN 'insufficient_observations' THEN -1 WHEN 'missing_proxy' THEN -2 WHEN 'degenerate_factor' THEN -3
      WHEN 'degenerate_series' THEN -4 END::smallint $$;
  CREATE FUNCTION fu_outcome_name(code smallint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE code WHEN 1 THEN 'full_history' WHEN 2 THEN 'limited_history' WHEN 3 THEN 'capped'
      WHEN -1 THEN 'insufficient_observations' WHEN -2 THEN 'missing_proxy' WHEN -3 THEN 'degenerate_factor'
      WHEN -4 THEN 'degenerate_series' END $$;
`;

const WIDE_TABLE = `
  CREATE TABLE symbol_day_factors (
    calculation_date       date NOT NULL,
    symbol                 text NOT NULL,
    beta                   double precision[],
    r_squared              double precision[],
    observations           integer[],
    outcome                smallint[],
    -- sqrt(252 x sum of squared ridge residuals / (n - 1)), annualised; its own sample size
    specific_vol           double precision CHECK (specific_vol >= 0),
    specific_observations  integer,
    computed_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT symbol_day_factors_pkey PRIMARY KEY (calculation_date, symbol),
    CHECK (-1e6 <= ALL (beta) AND 1e6 >= ALL (beta)),
    CHECK (0 <= ALL (r_squared) AND 1 >= ALL (r_squared)),
    CHECK (-4 <= ALL (outcome) AND 3 >= ALL (outcome) AND 0 <> ALL (outcome)),
    CHECK ((specific_vol IS NULL) = (specific_observations IS NULL))
  ) PARTITION BY RANGE (calculation_date);
  CREATE INDEX symbol_day_factors_symbol_idx ON symbol_day_factors (symbol, calculation_date);

  -- Creates the yearly partitions covering [first, last]; a no-op for years that exist. Runs as the
  -- owner (the application role may not create tables); two writers racing for one year both succeed.
  CREATE FUNCTION fu_ensure_factor_partitions(first date, last date) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DECLARE
    y int;
    part text;
  BEGIN
    IF first IS NULL OR last IS NULL THEN RETURN; END IF;
    FOR y IN extract(year FROM first)::int .. extract(year FROM last)::int LOOP
      part := 'symbol_day_factors_' || y;
      IF to_regclass(part) IS NULL THEN
        BEGIN
          EXECUTE format('CREATE TABLE %I PARTITION OF symbol_day_factors FOR VALUES FROM (%L) TO (%L)',
                         part, make_date(y, 1, 1), make_date(y + 1, 1, 1));
        EXCEPTION WHEN duplicate_table OR unique_violation THEN NULL;
        END;
      END IF;
    END LOOP;
  END $$;
`;

/** The old names, as views of the wide rows; INSTEAD OF triggers make them writable. */
const VIEWS = `
  CREATE VIEW symbol_factor_exposures AS
    SELECT w.symbol, f.id AS factor_id, w.calculation_date, w.beta[f.id] AS beta, w.r_squared[f.id] AS r_squared,
           w.observations[f.id] AS observations, fu_outcome_name(w.outcome[f.id]) AS quality_flag, w.computed_at
      FROM symbol_day_factors w JOIN factor_definitions f ON w.outcome[f.id] > 0;

  CREATE VIEW symbol_factor_skips AS
    SELECT w.symbol, f.id AS factor_id, w.calculation_date, fu_outcome_name(w.outcome[f.id]) AS reason,
           w.observations[f.id] AS observations, w.computed_at
      FROM symbol_day_factors w JOIN factor_definitions f ON w.outcome[f.id] < 0;

  CREATE VIEW symbol_specific_risk AS
    SELECT w.symbol, w.calculation_date, w.specific_vol, w.specific_observations AS observations, w.computed_at
      FROM symbol_day_factors w WHERE w.specific_vol IS NOT NULL;

  -- One factor slot of a (date, symbol) row: set (code not null) or cleared (code null). A row left
  -- with no outcome loses its arrays, and a row left with nothing at all is deleted.
  CREATE FUNCTION fu_set_factor_slot(d date, s text, fid int, b double precision, r2 double precision,
                                     obs int, code smallint, must_be_free boolean) RETURNS void
  LANGUAGE plpgsql AS $$
  DECLARE
    w symbol_day_factors%ROWTYPE;
    n int := greatest(fid, (SELECT max(id) FROM factor_definitions));
  BEGIN
    IF code IS NOT NULL THEN
      PERFORM fu_ensure_factor_partitions(d, d);
      INSERT INTO symbol_day_factors (calculation_date, symbol) VALUES (d, s) ON CONFLICT DO NOTHING;
    END IF;
    SELECT * INTO w FROM symbol_day_factors WHERE calculation_date = d AND symbol = s FOR UPDATE;
    IF NOT FOUND THEN RETURN; END IF;
    IF must_be_free AND w.outcome[fid] IS NOT NULL THEN
      RAISE unique_violation USING MESSAGE = format(
        'duplicate key: (symbol, factor_id, calculation_date)=(%s, %s, %s) already has a beta or a skip', s, fid, d);
    END IF;
    w.beta := coalesce(w.beta, array_fill(NULL::double precision, ARRAY[n]));
    w.r_squared := coalesce(w.r_squared, array_fill(NULL::double precision, ARRAY[n]));
    w.observations := coalesce(w.observations, array_fill(NULL::int, ARRAY[n]));
    w.outcome := coalesce(w.outcome, array_fill(NULL::smallint, ARRAY[n]));
    w.beta[fid] := b;
    w.r_squared[fid] := r2;
    w.observations[fid] := obs;
    w.outcome[fid] := code;
    IF NOT EXISTS (SELECT 1 FROM unnest(w.outcome) o WHERE o IS NOT NULL) THEN
      w.beta := NULL; w.r_squared := NULL; w.observations := NULL; w.outcome := NULL;
    END IF;
    IF w.outcome IS NULL AND w.specific_vol IS NULL THEN
      DELETE FROM symbol_day_factors WHERE calculation_date = d AND symbol = s;
    ELSE
      UPDATE symbol_day_factors SET beta = w.beta, r_squared = w.r_squared, observations = w.observations,
             outcome = w.outcome, computed_at = now()
       WHERE calculation_date = d AND symbol = s;
    END IF;
  END $$;

  CREATE FUNCTION fu_symbol_factor_exposures_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
      PERFORM fu_set_factor_slot(OLD.calculation_date, OLD.symbol, OLD.factor_id, NULL, NULL, NULL, NULL, false);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      IF fu_outcome_code(NEW.quality_flag) IS NULL OR fu_outcome_code(NEW.quality_flag) < 0 THEN
        RAISE check_violation USING MESSAGE = format('quality_flag %L is not a quality flag', NEW.quality_flag);
      END IF;
      IF NEW.beta IS NULL OR NEW.observations IS NULL THEN
        RAISE not_null_violation USING MESSAGE = 'beta and observations may not be null';
      END IF;
      PERFORM fu_set_factor_slot(NEW.calculation_date, NEW.symbol, NEW.factor_id, NEW.beta, NEW.r_squared,
                                 NEW.observations, fu_outcome_code(NEW.quality_flag), true);
      RETURN NEW;
    END IF;
    RETURN OLD;
  END $$;
  CREATE TRIGGER symbol_factor_exposures_write INSTEAD OF INSERT OR UPDATE OR DELETE ON symbol_factor_exposures
    FOR EACH ROW EXECUTE FUNCTION fu_symbol_factor_exposures_write();

  CREATE FUNCTION fu_symbol_factor_skips_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
      PERFORM fu_set_factor_slot(OLD.calculation_date, OLD.symbol, OLD.factor_id, NULL, NULL, NULL, NULL, false);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      IF fu_outcome_code(NEW.reason) IS NULL OR fu_outcome_code(NEW.reason) > 0 THEN
        RAISE check_violation USING MESSAGE = format('reason %L is not a skip reason', NEW.reason);
      END IF;
      IF NEW.observations IS NULL THEN
        RAISE not_null_violation USING MESSAGE = 'observations may not be null';
      END IF;
      PERFORM fu_set_factor_slot(NEW.calculation_date, NEW.symbol, NEW.factor_id, NULL, NULL,
                                 NEW.observations, fu_outcome_code(NEW.reason), true);
      RETURN NEW;
    END IF;
    RETURN OLD;
  END $$;
  CREATE TRIGGER symbol_factor_skips_write INSTEAD OF INSERT OR UPDATE OR DELETE ON symbol_factor_skips
    FOR EACH ROW EXECUTE FUNCTION fu_symbol_factor_skips_write();

  CREATE FUNCTION fu_symbol_specific_risk_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
      UPDATE symbol_day_factors SET specific_vol = NULL, specific_observations = NULL
       WHERE calculation_date = OLD.calculation_date AND symbol = OLD.symbol;
      DELETE FROM symbol_day_factors
       WHERE calculation_date = OLD.calculation_date AND symbol = OLD.symbol AND outcome IS NULL AND specific_vol IS NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      IF NEW.specific_vol IS NULL OR NEW.observations IS NULL THEN
        RAISE not_null_violation USING MESSAGE = 'specific_vol and observations may not be null';
      END IF;
      PERFORM fu_ensure_factor_partitions(NEW.calculation_date, NEW.calculation_date);
      INSERT INTO symbol_day_factors (calculation_date, symbol) VALUES (NEW.calculation_date, NEW.symbol)
        ON CONFLICT DO NOTHING;
      IF TG_OP = 'INSERT' AND EXISTS (SELECT 1 FROM symbol_day_factors WHERE calculation_date = NEW.calculation_date
                                        AND symbol = NEW.symbol AND specific_vol IS NOT NULL) THEN
        RAISE unique_violation USING MESSAGE = format(
          'duplicate key: (calculation_date, symbol)=(%s, %s) already has a specific vol', NEW.calculation_date, NEW.symbol);
      END IF;
      UPDATE symbol_day_factors SET specific_vol = NEW.specific_vol, specific_observations = NEW.observations,
             computed_at = now()
       WHERE calculation_date = NEW.calculation_date AND symbol = NEW.symbol;
      RETURN NEW;
    END IF;
    RETURN OLD;
  END $$;
  CREATE TRIGGER symbol_specific_risk_write INSTEAD OF INSERT OR UPDATE OR DELETE ON symbol_specific_risk
    FOR EACH ROW EXECUTE FUNCTION fu_symbol_specific_risk_write();
`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `ALTER TABLE symbol_factor_exposures RENAME TO symbol_factor_exposures_tall;
       ALTER TABLE symbol_factor_skips RENAME TO symbol_factor_skips_tall;
       ALTER TABLE symbol_specific_risk RENAME TO symbol_specific_risk_tall;
       ${OUTCOME_CODES}
       ${WIDE_TABLE}
       -- the years the rows cover, and this year and the next: the pipeline adds others as they come
       SELECT fu_ensure_factor_partitions(
         least(current_date - 366, (SELECT min(calculation_date) FROM symbol_factor_exposures_tall),
               (SELECT min(calculation_date) FROM symbol_factor_skips_tall),
               (SELECT min(calculation_date) FROM symbol_specific_risk_tall)),
         greatest(current_date + 366, (SELECT max(calculation_date) FROM symbol_factor_exposures_tall),
                  (SELECT max(calculation_date) FROM symbol_factor_skips_tall),
                  (SELECT max(calculation_date) FROM symbol_specific_risk_tall)));

       WITH n AS (SELECT max(id) AS n FROM factor_definitions),
       slots AS (
         SELECT calculation_date, symbol, factor_id, beta, r_squared, observations, fu_outcome_code(quality_flag) AS code,
                computed_at
           FROM symbol_factor_exposures_tall
         UNION ALL
         SELECT calculation_date, symbol, factor_id, NULL, NULL, observations, fu_outcome_code(reason), computed_at
           FROM symbol_factor_skips_tall
       ),
       keys AS (SELECT DISTINCT calculation_date, symbol FROM slots),
       grid AS (
         SELECT k.calculation_date, k.symbol, i, s.beta, s.r_squared, s.observations, s.code, s.computed_at
           FROM keys k CROSS JOIN n CROSS JOIN generate_series(1, n.n) AS i
           LEFT JOIN slots s ON s.calculation_date = k.calculation_date AND s.symbol = k.symbol AND s.factor_id = i
       ),
       wide AS (
         SELECT calculation_date, symbol, array_agg(beta ORDER BY i) AS beta, array_agg(r_squared ORDER BY i) AS r_squared,
                array_agg(observations ORDER BY i) AS observations, array_agg(code ORDER BY i) AS outcome,
                max(computed_at) AS computed_at
           FROM grid GROUP BY calculation_date, symbol
       )
       INSERT INTO symbol_day_factors (calculation_date, symbol, beta, r_squared, observations, outcome,
                                       specific_vol, specific_observations, computed_at)
       SELECT coalesce(w.calculation_date, r.calculation_date), coalesce(w.symbol, r.symbol),
              w.beta, w.r_squared, w.observations, w.outcome, r.specific_vol, r.observations,
              coalesce(greatest(w.computed_at, r.computed_at), now())
         FROM wide w FULL JOIN symbol_specific_risk_tall r
           ON r.calculation_date = w.calculation_date AND r.symbol = w.symbol;

       DROP TABLE symbol_factor_exposures_tall, symbol_factor_skips_tall, symbol_specific_risk_tall;
       ${VIEWS}
       ANALYZE symbol_day_factors;`,
    )
    .execute(db);
  await grantApp(db);
}

/** The application role (migration 0008) reads and writes through the views and the wide table. */
async function grantApp(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `DO $$ BEGIN
         IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fu_app') THEN
           GRANT SELECT, INSERT, UPDATE, DELETE ON symbol_day_factors, symbol_factor_exposures, symbol_factor_skips,
             symbol_specific_risk TO fu_app;
           GRANT EXECUTE ON FUNCTION fu_ensure_factor_partitions(date, date) TO fu_app;
         END IF;
       END $$`,
    )
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `CREATE TABLE symbol_factor_exposures_tall (
         symbol            text NOT NULL,
         factor_id         smallint NOT NULL,
         calculation_date  date NOT NULL,
         beta              double precision NOT NULL CHECK (beta BETWEEN -1e6 AND 1e6),
         r_squared         double precision CHECK (r_squared BETWEEN 0 AND 1),
         observations      integer NOT NULL,
         quality_flag      text NOT NULL CHECK (quality_flag IN ('full_history', 'limited_history', 'capped')),
         computed_at       timestamptz NOT NULL DEFAULT now()
       );
       CREATE TABLE symbol_factor_skips_tall (
         symbol            text NOT NULL,
         factor_id         smallint NOT NULL,
         calculation_date  date NOT NULL,
         reason            text NOT NULL,
         observations      integer NOT NULL,
         computed_at       timestamptz NOT NULL DEFAULT now()
       );
       CREATE TABLE symbol_specific_risk_tall (
         symbol            text NOT NULL,
         calculation_date  date NOT NULL,
         specific_vol      double precision NOT NULL CHECK (specific_vol >= 0),
         observations      integer NOT NULL,
         computed_at       timestamptz NOT NULL DEFAULT now()
       );
       INSERT INTO symbol_factor_exposures_tall SELECT * FROM symbol_factor_exposures;
       INSERT INTO symbol_factor_skips_tall SELECT * FROM symbol_factor_skips;
       INSERT INTO symbol_specific_risk_tall SELECT * FROM symbol_specific_risk;

       DROP VIEW symbol_factor_exposures, symbol_factor_skips, symbol_specific_risk;
       DROP FUNCTION fu_symbol_factor_exposures_write(), fu_symbol_factor_skips_write(), fu_symbol_specific_risk_write(),
         fu_set_factor_slot(date, text, int, double precision, double precision, int, smallint, boolean);
       DROP TABLE symbol_day_factors;
       DROP FUNCTION fu_ensure_factor_partitions(date, date), fu_outcome_code(text), fu_outcome_name(smallint);

       -- the old tables under their old names, keys, indexes and constraints (0001, 0002, 0006, 0007)
       ALTER TABLE symbol_factor_exposures_tall RENAME TO symbol_factor_exposures;
       ALTER TABLE symbol_factor_exposures ADD CONSTRAINT symbol_factor_exposures_pkey
         PRIMARY KEY (symbol, factor_id, calculation_date);
       ALTER TABLE symbol_factor_exposures ADD CONSTRAINT symbol_factor_exposures_factor_id_fkey
         FOREIGN KEY (factor_id) REFERENCES factor_definitions (id);
       CREATE INDEX symbol_factor_exposures_date_idx ON symbol_factor_exposures (calculation_date, factor_id);

       ALTER TABLE symbol_factor_skips_tall RENAME TO symbol_factor_skips;
       ALTER TABLE symbol_factor_skips ADD CONSTRAINT symbol_factor_skips_pkey
         PRIMARY KEY (symbol, factor_id, calculation_date);
       ALTER TABLE symbol_factor_skips ADD CONSTRAINT symbol_factor_skips_factor_id_fkey
         FOREIGN KEY (factor_id) REFERENCES factor_definitions (id);
       ALTER TABLE symbol_factor_skips ADD CONSTRAINT symbol_factor_skips_reason_check
         CHECK (reason IN ('insufficient_observations', 'missing_proxy', 'degenerate_factor', 'degenerate_series'));
       CREATE INDEX symbol_factor_skips_date_idx ON symbol_factor_skips (calculation_date);

       ALTER TABLE symbol_specific_risk_tall RENAME TO symbol_specific_risk;
       ALTER TABLE symbol_specific_risk ADD CONSTRAINT symbol_specific_risk_pkey PRIMARY KEY (calculation_date, symbol);`,
    )
    .execute(db);
  await sql
    .raw(
      `DO $$ BEGIN
         IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fu_app') THEN
           GRANT SELECT, INSERT, UPDATE, DELETE ON symbol_factor_exposures, symbol_factor_skips, symbol_specific_risk TO fu_app;
         END IF;
       END $$`,
    )
    .execute(db);
}
