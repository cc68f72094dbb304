/**
 * A status checked on rows found by primary key, written so that it cannot serve as an index condition
 * (`(status IN (…)) IS TRUE`): the row is read by its key, and its status checked after. A named statement's plan is
 * made once per connection, from statistics that may date from a quiet moment; with few rows of that status then,
 * PostgreSQL read the row through a status index and filtered every row of that status by id. Measured (issue 17): a
 * run's finish with 2,000 runs running read 754 index buffers in 1.6 ms (~0.1 ms by primary key); a trigger delivery's
 * update with 3,000 pending read 55 buffers in 0.4 ms. `test/integration/runs/status-checks.test.ts` and
 * `test/integration/triggers/delivery-plans.test.ts` hold every such statement. `statuses` are SQL literals of ours,
 * never input.
 */
export const statusIn = (column: string, ...statuses: readonly string[]) => `(${column} IN (${statuses.map((s) => `'${s}'`).join(", ")})) IS TRUE`;
