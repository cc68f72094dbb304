// The statements that change one delivery read it by primary key, however many deliveries are pending: planned from
// statistics taken when few were, PostgreSQL read it through the (status, next_attempt_at) index and filtered every
// pending delivery by id (packages/triggers/src/deliver.ts, HOLD_DELIVERY and RECORD_DELIVERY_ATTEMPT).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuidv7 } from "@nagent/db";
import { HOLD_DELIVERY, RECORD_DELIVERY_ATTEMPT } from "@nagent/triggers";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { seedWorkspace } from "../runs/seed";

let db: TestDatabase;
let pendingId: string;

/** `n` events of the workspace, each with a delivery of `status` to the subscription. */
async function seedDeliveries(workspaceId: string, subscriptionId: string, n: number, status: "succeeded" | "pending"): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `WITH e AS (
       INSERT INTO trigger_event (id, workspace_id, trigger, dedup_key, source, data)
       SELECT gen_random_uuid(), $1, 'SCALE_AI_TASK_COMPLETED', 'k' || gen_random_uuid(), 'callback', '{}'::jsonb FROM generate_series(1, $3::int)
       RETURNING id
     )
     INSERT INTO trigger_delivery (id, workspace_id, event_id, subscription_id, status, attempts_count, next_attempt_at)
     SELECT gen_random_uuid(), $1, e.id, $2, $4::varchar, CASE WHEN $4 = 'pending' THEN 0 ELSE 1 END, CASE WHEN $4 = 'pending' THEN now() END FROM e
     RETURNING id`,
    [workspaceId, subscriptionId, n, status]);
  return rows.map((r) => r.id);
}

beforeAll(async () => {
  db = await createTestDatabase();
  const workspaceId = await seedWorkspace(db.pool, "delivery-plans");
  const subscriptionId = uuidv7();
  await db.pool.query(
    `INSERT INTO trigger_subscription (id, workspace_id, trigger, target_url, secret_ciphertext, secret_hint)
     VALUES ($1, $2, 'SCALE_AI_TASK_COMPLETED', 'https://example.com/hook', '\\x00', 'whsec_…0000')`, [subscriptionId, workspaceId]);
  // Analyzed when every delivery had gone out; then a receiver's outage leaves a backlog pending.
  await seedDeliveries(workspaceId, subscriptionId, 2_000, "succeeded");
  await db.pool.query("ANALYZE trigger_delivery");
  pendingId = (await seedDeliveries(workspaceId, subscriptionId, 1_000, "pending"))[0]!;
});
afterAll(() => db?.drop());

/** The index names the statement's plan reads trigger_delivery through. */
async function indexesOf(sql: string, values: unknown[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>({ text: `EXPLAIN (FORMAT JSON) ${sql}`, values });
  const names: string[] = [];
  const walk = (node: PlanNode) => {
    if (node["Relation Name"] === "trigger_delivery" && node["Index Name"]) names.push(node["Index Name"]);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(rows[0]!["QUERY PLAN"][0].Plan);
  return names;
}
interface PlanNode { readonly "Relation Name"?: string; readonly "Index Name"?: string; readonly Plans?: PlanNode[] }

describe("a delivery's update with a backlog pending", () => {
  it("holding it reads it by primary key", async () => {
    expect(await indexesOf(HOLD_DELIVERY, [pendingId, 0])).toEqual(["trigger_delivery_pkey"]);
  });

  it("recording its attempt reads it by primary key", async () => {
    expect(await indexesOf(RECORD_DELIVERY_ATTEMPT, [pendingId, 1, "succeeded", 0, new Date(), null])).toEqual(["trigger_delivery_pkey"]);
  });

  it("both still change only a pending delivery at the attempt they expect", async () => {
    expect((await db.pool.query(RECORD_DELIVERY_ATTEMPT, [pendingId, 2, "succeeded", 0, new Date(), null])).rowCount).toBe(0); // not its attempt
    expect((await db.pool.query(RECORD_DELIVERY_ATTEMPT, [pendingId, 1, "succeeded", 0, new Date(), null])).rowCount).toBe(1);
    expect((await db.pool.query(HOLD_DELIVERY, [pendingId, 1])).rowCount).toBe(0); // no longer pending
  });
});
