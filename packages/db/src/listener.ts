import pg from "pg";

/*
 * Hand-written on purpose; `pg-listen` (evaluated 2026-12-07 for issue 18, version 1.7.0, peer pg 7.x || 8.x) does
 * not serve:
 * - unmaintained: 1.7.0, from 2020, is still its latest release; andywer/pg-listen#56 (no reconnect after a
 *   PostgreSQL restart) ended with the reporter's own workaround, `retryTimeout: Infinity`;
 * - by default (`retryTimeout` 3000 ms) it stops reconnecting for good after 3 s of failures, and if the re-LISTEN
 *   after a reconnect fails it emits "error" and stays on the new connection without those channels, never retrying;
 * - it has no per-channel "LISTEN in effect" signal (`listenTo` while reconnecting rejects on the dead client), so
 *   `ready()` below, which the run event hub and sync execute await before they enqueue, would still be ours.
 * It does re-LISTEN after a reconnect and can signal one (its "reconnect" and "connected" events), but what would
 * remain here (channels with lingering, `ready`, `connected`, `onReconnect`) is most of this file.
 * test/integration/db/listener.test.ts kills this connection (pg_terminate_backend) and checks all of that.
 */

type Handler = (payload: string) => void;

/** How long a channel stays LISTENed after its last handler left (so a busy channel does not flap). */
const LINGER_MS = 30_000;

/**
 * One LISTEN connection per process for all the PostgreSQL channels it follows, re-opened with backoff when it drops.
 * NOTIFY is delivered on commit, so a handler always finds the row already changed.
 *
 * A channel is LISTENed only while it has handlers (and `LINGER_MS` after the last left): a process nobody waits in
 * does not pay for every notification of a busy channel. `ready(channel)` resolves once the LISTEN is in effect; a
 * consumer that must not miss a notification subscribes, awaits `ready`, and only then starts what will notify.
 * Consumers that cache must know when notifications may have been missed: `connected` says whether the connection is
 * up, and `onReconnect` handlers run when it dropped and after it came back (drop caches there).
 */
export function createPgListener(options: { url: string; onError?: (error: Error) => void }) {
  const handlers = new Map<string, Set<Handler>>();
  /** Channels LISTENed on the current connection, with the promise of their LISTEN. */
  const active = new Map<string, Promise<void>>();
  const lingering = new Map<string, NodeJS.Timeout>();
  const reconnectHandlers = new Set<() => void>();
  let client: pg.Client | null = null;
  let closed = false;
  /** The connection attempt in progress, or the next one (its backoff wait included) while disconnected. */
  let connecting: Promise<void> | null = null;
  /** The backoff wait before the next attempt; `close()` cuts it short. */
  let retry: { timer: NodeJS.Timeout; now(): void } | null = null;
  let retryMs = 100;
  let everConnected = false;

  const quote = (channel: string) => `"${channel.replaceAll('"', '""')}"`;

  const listenOn = (c: pg.Client, channel: string): Promise<void> => {
    const done = c.query(`LISTEN ${quote(channel)}`).then(() => undefined);
    done.catch((error: Error) => {
      if (active.get(channel) === done) active.delete(channel);
      options.onError?.(error);
    });
    active.set(channel, done);
    return done;
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString: options.url });
    c.on("notification", (msg) => {
      for (const h of handlers.get(msg.channel) ?? []) h(msg.payload ?? "");
    });
    c.on("error", (error) => {
      options.onError?.(error);
      if (client === c) {
        client = null;
        active.clear();
        c.end().catch(() => {});
        scheduleReconnect();
      }
    });
    try {
      await c.connect();
      active.clear();
      await Promise.all([...handlers.keys()].map((channel) => listenOn(c, channel)));
    } catch (error) {
      // Not adopted as `client`: close it here, or a half-set-up connection would stay open for good.
      c.end().catch(() => {});
      throw error;
    }
    client = c;
    retryMs = 100;
    if (everConnected) for (const h of reconnectHandlers) h();
    everConnected = true;
  };

  const scheduleReconnect = () => {
    if (closed) return;
    // While disconnected, caches must not be trusted: tell them now, not only after the reconnect.
    for (const h of reconnectHandlers) h();
    // `connecting` covers the backoff wait too, so a `ready()` called while disconnected waits for this attempt.
    connecting = new Promise<void>((resolve) => {
      const now = () => {
        if (retry) clearTimeout(retry.timer);
        retry = null;
        resolve();
      };
      retry = { timer: setTimeout(now, retryMs).unref(), now };
    })
      .then(connect)
      .catch((error: Error) => {
        options.onError?.(error);
        retryMs = Math.min(retryMs * 2, 5_000);
        scheduleReconnect();
      });
  };

  const release = (channel: string) => {
    const timer = setTimeout(() => {
      lingering.delete(channel);
      if ((handlers.get(channel)?.size ?? 0) > 0) return;
      handlers.delete(channel);
      if (client && active.has(channel)) {
        active.delete(channel);
        client.query(`UNLISTEN ${quote(channel)}`).catch((error: Error) => options.onError?.(error));
      }
    }, LINGER_MS);
    timer.unref();
    lingering.set(channel, timer);
  };

  return {
    async start(): Promise<void> {
      connecting = connect();
      await connecting;
    },
    /** Follows a channel; returns the unsubscribe function. The first handler of a channel LISTENs to it. */
    listen(channel: string, handler: Handler): () => void {
      let set = handlers.get(channel);
      if (!set) handlers.set(channel, (set = new Set()));
      set.add(handler);
      const timer = lingering.get(channel);
      if (timer) {
        clearTimeout(timer);
        lingering.delete(channel);
      }
      if (client && !active.has(channel)) void listenOn(client, channel).catch(() => {});
      return () => {
        if (!set!.delete(handler)) return;
        if (set!.size === 0) release(channel);
      };
    },
    /** Resolves once the channel's LISTEN is in effect (at once when it already is; at connect when disconnected). */
    async ready(channel: string): Promise<void> {
      const pending = active.get(channel);
      if (pending) return pending.catch(() => {});
      await connecting?.catch(() => {});
      await active.get(channel)?.catch(() => {});
    },
    /** Runs when the connection dropped or came back: notifications may have been missed in between. */
    onReconnect(handler: () => void): () => void {
      reconnectHandlers.add(handler);
      return () => reconnectHandlers.delete(handler);
    },
    get connected(): boolean {
      return client !== null;
    },
    async close(): Promise<void> {
      closed = true;
      for (const timer of lingering.values()) clearTimeout(timer);
      lingering.clear();
      retry?.now(); // the attempt it starts returns at once: `closed` is set
      await connecting?.catch(() => {});
      await client?.end().catch(() => {});
      client = null;
    },
  };
}

export type PgListener = ReturnType<typeof createPgListener>;
