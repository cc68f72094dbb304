import type pg from "pg";

/**
 * One hot statement, described once, run in two forms. The description lists the statement's per-run parameters
 * and gives its text as a function of the row source `v`, which exposes one row per run with those columns. The
 * store's batchers call it with one run at low load and with many under load:
 * - one run: `v` is `(SELECT $1::uuid AS id, …) AS v`, which PostgreSQL pulls up into the statement, so `r.id = v.id`
 *   becomes `r.id = $1`, a primary-key lookup;
 * - several: `v` is `unnest($1::uuid[], …) AS v(id, …)`: one round trip, one plan and one commit for all of them.
 * Both forms are named prepared statements (`<name>-one`, `<name>-batch`), parsed once per connection.
 *
 * Why two forms, measured (issue 18; PostgreSQL 15 on the shared 2-core dev machine under heavy load, the three
 * statements for one run in each form interleaved on one connection, 3000 runs per form, two runs, median of the
 * paired differences): the batch form given one run is slower than the single-row form by 0.09–0.11 ms for the
 * insert (p50 about 1.0–1.3 ms), 0.15–0.27 ms for the claim (p50 2.2–2.5 ms) and 0.3–0.6 ms for the finish (p50
 * 7.2–7.6 ms, its durable commit dominates); earlier, on a quieter machine (the hand-written forms, 300 runs),
 * +0.11 ms insert and +0.19 ms claim at p50s near 0.5 ms. A sync execute waits for all three, so the single-row form
 * stays. The single-row form built here costs the same as the hand-written one it replaced (paired medians
 * +0.02/+0.04 ms insert, +0.01/+0.07 ms claim).
 */
export interface HotStatement<I> {
  readonly name: string;
  /**
   * The per-run parameters as comma-separated `name type` pairs (`"id uuid, attempt int"`), numbered $1… in this
   * order; `type` is the scalar PostgreSQL type, which the batch form passes as an array (`type[]`).
   */
  readonly columns: string;
  /** One run's parameter values, in the order of `columns`. */
  readonly values: (item: I) => readonly unknown[];
  /** A parameter that holds for the whole call, numbered after the columns. */
  readonly shared?: { readonly type: string; readonly value: (items: readonly I[]) => unknown };
  /** The statement's text; `rows` is the row source (alias `v`), `shared` the shared parameter's placeholder. */
  readonly text: (rows: string, shared: string) => string;
}

/** The statement's two forms, and a call's parameter values in each. */
export function statementForms<I>(statement: HotStatement<I>) {
  const columns = statement.columns.split(",").map((pair) => {
    const [name, type] = pair.trim().split(/\s+/);
    if (!name || !type) throw new Error(`${statement.name}: a column must be "name type", not "${pair}"`);
    return { name, type };
  });
  const shared = statement.shared ? `$${columns.length + 1}::${statement.shared.type}` : "NULL";
  const sharedValue = (items: readonly I[]) => (statement.shared ? [statement.shared.value(items)] : []);
  return {
    one: {
      name: `${statement.name}-one`,
      text: statement.text(`(SELECT ${columns.map((c, i) => `$${i + 1}::${c.type} AS ${c.name}`).join(", ")}) AS v`, shared),
    },
    batch: {
      name: `${statement.name}-batch`,
      text: statement.text(`unnest(${columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ")}) AS v(${columns.map((c) => c.name).join(", ")})`, shared),
    },
    /** `$1…` of the single-row form: one value per column. */
    oneValues: (item: I): unknown[] => [...statement.values(item), ...sharedValue([item])],
    /** `$1…` of the batch form: one array per column. */
    batchValues: (items: readonly I[]): unknown[] => {
      const rows = items.map(statement.values);
      return [...columns.map((_, c) => rows.map((row) => row[c])), ...sharedValue(items)];
    },
  };
}

/** Builds the statement's two forms once; the returned function runs the one that fits the number of items. */
export function hotStatement<I, R extends pg.QueryResultRow>(statement: HotStatement<I>) {
  const forms = statementForms(statement);
  return async (pool: pg.Pool, items: readonly I[]): Promise<R[]> => {
    const single = items.length === 1 ? items[0] : undefined;
    const query = single === undefined ? { ...forms.batch, values: forms.batchValues(items) } : { ...forms.one, values: forms.oneValues(single) };
    const { rows } = await pool.query<R>(query);
    return rows;
  };
}
