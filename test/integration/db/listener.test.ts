import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgListener, type PgListener } from "@nagent/db";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { waitFor } from "../../support/webhook-receiver";

// The LISTEN connection killed under the listener (as a failover or an idle-session reaper would): it must come back,
// LISTEN again to what it followed, say so through onReconnect, and make `ready` wait for the new LISTEN.

let db: TestDatabase;
let listener: PgListener;
let appName: string;
const errors: Error[] = [];
const events: string[] = [];

async function killListenerConnection(): Promise<void> {
  const { rows } = await db.pool.query<{ killed: boolean }>(
    "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1",
    [appName],
  );
  expect(rows.map((r) => r.killed)).toEqual([true]);
}

const notify = (channel: string, payload: string) => db.pool.query("SELECT pg_notify($1, $2)", [channel, payload]);

beforeAll(async () => {
  db = await createTestDatabase();
  appName = `listener_test_${randomBytes(4).toString("hex")}`;
  const url = new URL(db.url);
  url.searchParams.set("application_name", appName);
  listener = createPgListener({ url: url.toString(), onError: (error) => errors.push(error) });
  listener.onReconnect(() => events.push(listener.connected ? "back" : "dropped"));
  await listener.start();
});

afterAll(async () => {
  await listener?.close();
  await db?.drop();
});

describe("createPgListener", () => {
  it("LISTENs again after its connection is killed, and tells onReconnect when it dropped and when it is back", async () => {
    const received: string[] = [];
    listener.listen("listener_a", (payload) => received.push(payload));
    await listener.ready("listener_a");
    await notify("listener_a", "before");
    expect(await waitFor(() => received.includes("before"))).toBe(true);

    events.length = 0;
    await killListenerConnection();
    expect(await waitFor(() => events.includes("back"))).toBe(true);
    expect(events).toEqual(["dropped", "back"]);
    expect(listener.connected).toBe(true);
    expect(errors.length).toBeGreaterThan(0);

    await listener.ready("listener_a");
    await notify("listener_a", "after");
    expect(await waitFor(() => received.includes("after"))).toBe(true);
    expect(received).toEqual(["before", "after"]);
  });

  it("follows a channel subscribed while disconnected: `ready` resolves once its LISTEN is in effect", async () => {
    events.length = 0;
    await killListenerConnection();
    expect(await waitFor(() => events.includes("dropped"))).toBe(true);
    expect(listener.connected).toBe(false);

    const received: string[] = [];
    listener.listen("listener_b", (payload) => received.push(payload));
    await listener.ready("listener_b");
    expect(listener.connected).toBe(true);
    await notify("listener_b", "hello");
    expect(await waitFor(() => received.includes("hello"))).toBe(true);
  });
});
