import { describe, expect, it } from "vitest";
import type { PgListener } from "@nagent/db";
import { createRunEventHub } from "./events";
import { RUN_EVENTS_CHANNEL, type RunEvent } from "./types";

/** A listener whose notifications the test sends by hand. */
function fakeListener() {
  const handlers = new Map<string, Set<(payload: string) => void>>();
  const listener = {
    listen(channel: string, handler: (payload: string) => void) {
      if (!handlers.has(channel)) handlers.set(channel, new Set());
      handlers.get(channel)!.add(handler);
      return () => handlers.get(channel)!.delete(handler);
    },
    ready: async () => {},
  } as unknown as PgListener;
  const send = (event: Partial<RunEvent>) => {
    for (const h of handlers.get(RUN_EVENTS_CHANNEL) ?? []) h(JSON.stringify({ workspace_id: "ws", ...event }));
  };
  return { listener, send, subscribers: () => handlers.get(RUN_EVENTS_CHANNEL)?.size ?? 0 };
}

describe("run event hub: watching a run for its end", () => {
  it("a run that ended before the wait began answers its event at once (a sync execute whose run was that fast)", async () => {
    const { listener, send, subscribers } = fakeListener();
    const hub = createRunEventHub({ listener });
    const watch = hub.watch("run-1");
    send({ id: "run-1", status: "running" });
    send({ id: "run-1", status: "succeeded" });
    const event = await watch.terminal(30_000, async () => "succeeded");
    expect(event).toMatchObject({ id: "run-1", status: "succeeded" });
    expect(subscribers()).toBe(0);
  });

  it("a run that ends during the wait answers its terminal event, not the ones before; past the bound, null", async () => {
    const { listener, send } = fakeListener();
    const hub = createRunEventHub({ listener });
    const watch = hub.watch("run-2");
    const waiting = watch.terminal(30_000, async () => "running");
    send({ id: "run-2", status: "running" });
    send({ id: "other", status: "failed" });
    send({ id: "run-2", status: "failed" });
    expect(await waiting).toMatchObject({ id: "run-2", status: "failed" });
    expect(await hub.watch("run-3").terminal(20, async () => "queued")).toBeNull();
  });
});
