import pg from "pg";

type Handler = (payload: string) => void;

/**
 * One LISTEN connection per process for all the PostgreSQL channels it follows, re-opened with backoff when it drops.
 * NOTIFY is delivered on commit, so a handler always finds the row already changed. Consumers that cache must know
 * when notifications may have been missed: `connected` says whether the connection is up, and `onReconnect` handlers
 * run after a reconnect (drop caches there).
 */
export function createPgListener(options: { url: string; onError?: (error: Error) => void }) {
  const handlers = new Map<string, Set<Handler>>();
  const reconnectHandlers = new Set<() => void>();
  let client: pg.Client | null = null;
  let closed = false;
  let connecting: Promise<void> | null = null;
  let retryMs = 100;
  let everConnected = false;

  const quote = (channel: string) => `"${channel.replaceAll('"', '""')}"`;

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
        c.end().catch(() => {});
        scheduleReconnect();
      }
    });
    await c.connect();
    for (const channel of handlers.keys()) await c.query(`LISTEN ${quote(channel)}`);
    client = c;
    retryMs = 100;
    if (everConnected) for (const h of reconnectHandlers) h();
    everConnected = true;
  };

  const scheduleReconnect = () => {
    if (closed) return;
    // While disconnected, caches must not be trusted: tell them now, not only after the reconnect.
    for (const h of reconnectHandlers) h();
    setTimeout(() => {
      connecting = connect().catch((error: Error) => {
        options.onError?.(error);
        retryMs = Math.min(retryMs * 2, 5_000);
        scheduleReconnect();
      });
    }, retryMs).unref();
  };

  return {
    async start(): Promise<void> {
      connecting = connect();
      await connecting;
    },
    /** Follows a channel; returns the unsubscribe function. Channels added after start are LISTENed at once. */
    listen(channel: string, handler: Handler): () => void {
      let set = handlers.get(channel);
      if (!set) {
        handlers.set(channel, (set = new Set()));
        client?.query(`LISTEN ${quote(channel)}`).catch((error: Error) => options.onError?.(error));
      }
      set.add(handler);
      return () => set!.delete(handler);
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
      await connecting?.catch(() => {});
      await client?.end().catch(() => {});
      client = null;
    },
  };
}

export type PgListener = ReturnType<typeof createPgListener>;
