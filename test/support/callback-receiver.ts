import { createServer, type IncomingMessage } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

/** One request the receiver got: its path, headers and parsed JSON body (null when it was not JSON). */
export interface ReceivedCallback {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: any;
}

/**
 * A loopback HTTP server that answers 200 to every POST and keeps what it got, to stand for a customer's
 * `callback_url` (the sandbox delivers task callbacks to it; no outside network is needed).
 */
export async function startCallbackReceiver(): Promise<{ url: string; received: ReceivedCallback[]; close(): Promise<void> }> {
  const received: ReceivedCallback[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      received.push({ path: req.url ?? "/", headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    received,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close").catch(() => {});
    },
  };
}
