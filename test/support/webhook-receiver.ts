import { createServer, type IncomingHttpHeaders } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: any;
  readonly status: number;
}

/**
 * A subscriber's endpoint on loopback: keeps every request, answers what `answer` says (200 by default), and can
 * verify a request's Standard Webhooks signature with a secret.
 */
export async function startReceiver(port = 0) {
  const received: Received[] = [];
  let answer: (n: number) => { status: number; headers?: Record<string, string>; body?: string } = () => ({ status: 200 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const reply = answer(received.length + 1);
      let body: unknown = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = null;
      }
      received.push({ headers: req.headers, raw, body, status: reply.status });
      res.writeHead(reply.status, { "content-type": "text/plain", ...(reply.headers ?? {}) }).end(reply.body ?? "ok");
    });
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/hooks`,
    port: address.port,
    received,
    /** Successful deliveries only. */
    delivered: () => received.filter((r) => r.status >= 200 && r.status < 300),
    answerWith(fn: typeof answer) {
      answer = fn;
    },
    verify(secret: string, r: Received): unknown {
      return new Webhook(secret).verify(r.raw, {
        "webhook-id": String(r.headers["webhook-id"]),
        "webhook-timestamp": String(r.headers["webhook-timestamp"]),
        "webhook-signature": String(r.headers["webhook-signature"]),
      });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => {});
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then the last value is returned). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
