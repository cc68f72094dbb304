import { createServer, type IncomingHttpHeaders } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

/** One delivery as the receiver got it: headers and the raw body, byte for byte, and what the receiver answered. */
export interface Delivery {
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly status: number;
}

/**
 * A subscriber's endpoint on loopback, as a customer writes it with the SDK: each request goes to `handle` (set it
 * once the subscription's secret is known, e.g. a `createWebhookHandler`), answered 204 when it resolves and 400
 * when it rejects (a delivery that fails verification is refused). Keeps every request.
 */
export async function startWebhookReceiver() {
  const received: Delivery[] = [];
  const refusals: unknown[] = [];
  let handle: (headers: IncomingHttpHeaders, raw: string) => Promise<unknown> = async () => {
    throw new Error("No handler yet.");
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      handle(req.headers, raw).then(
        () => {
          received.push({ headers: req.headers, raw, status: 204 });
          res.writeHead(204).end();
        },
        (error: unknown) => {
          refusals.push(error);
          received.push({ headers: req.headers, raw, status: 400 });
          res.writeHead(400, { "content-type": "text/plain" }).end("refused");
        },
      );
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/nagent`,
    received,
    refusals,
    handleWith(fn: typeof handle) {
      handle = fn;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => {});
    },
  };
}

export { waitFor } from "../../support/webhook-receiver";
