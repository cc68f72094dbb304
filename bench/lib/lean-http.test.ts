import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { leanFlood, openLeanConnection } from "./lean-http";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => handler(req, body, res));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  };
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}/v1/things/X/execute?x=1`;
}

const flood = (url: string, total: number, connections = 4) =>
  leanFlood({ url, method: "POST", headers: { authorization: "Bearer k", "content-type": "application/json" }, body: JSON.stringify({ n: "é" }), total, connections, expectStatus: 202 });

describe("leanFlood", () => {
  it("sends exactly `total` requests over keep-alive connections, each with its method, path, headers and body", async () => {
    const seen: { method: string | undefined; url: string | undefined; auth: string | undefined; body: string; socket: unknown }[] = [];
    const url = await serve((req, body, res) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body, socket: req.socket });
      // Bodies of varying length, so responses end at different places in the stream.
      const json = JSON.stringify({ run_id: "r".repeat(seen.length % 7), status: "queued" });
      res.writeHead(202, { "content-type": "application/json", "content-length": Buffer.byteLength(json) }).end(json);
    });
    expect(await flood(url, 103, 4)).toBe(103);
    expect(seen).toHaveLength(103);
    expect(new Set(seen.map((s) => s.socket)).size).toBe(4);
    expect(seen.every((s) => s.method === "POST" && s.url === "/v1/things/X/execute?x=1" && s.auth === "Bearer k" && s.body === JSON.stringify({ n: "é" }))).toBe(true);
  });

  it("with a signal, keeps sending until it is aborted and answers how many it sent", async () => {
    let received = 0;
    const url = await serve((_req, _body, res) => {
      received++;
      res.writeHead(202, { "content-type": "application/json", "content-length": 2 }).end("{}");
    });
    const stop = new AbortController();
    const flooding = leanFlood({ url, method: "POST", headers: {}, body: "{}", total: Infinity, connections: 3, expectStatus: 202, signal: stop.signal });
    while (received < 50) await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    const sent = await flooding;
    expect(sent).toBe(received);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toBe(sent);
  });

  it("with ratePerSec, holds the sends to that rate: request k leaves no earlier than k / rate s after the start", async () => {
    const at: number[] = [];
    const url = await serve((_req, _body, res) => {
      at.push(performance.now());
      res.writeHead(202, { "content-type": "application/json", "content-length": 2 }).end("{}");
    });
    const started = performance.now();
    const sent = await leanFlood({ url, method: "POST", headers: {}, body: "{}", total: 40, connections: 4, expectStatus: 202, ratePerSec: 200 });
    expect(sent).toBe(40);
    expect(at).toHaveLength(40);
    // The 40th request (k = 39) may not leave before 195 ms; unpaced, 40 loopback requests take a few ms.
    expect(at[39]! - started).toBeGreaterThanOrEqual(190);
  });

  it("fails on a response with another status, showing it", async () => {
    const url = await serve((_req, _body, res) => res.writeHead(400, { "content-type": "application/json", "content-length": 16 }).end('{"error":"nope"}'));
    await expect(flood(url, 10)).rejects.toThrow('unexpected response: 400 {"error":"nope"}');
  });

  it("fails on a response it cannot delimit (no content-length)", async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(202, { "content-type": "text/plain" });
      res.write("a");
      res.end("b");
    });
    await expect(flood(url, 10)).rejects.toThrow(/cannot delimit/);
  });

  it("answers each response's status and body on one connection, GET without a body", async () => {
    let n = 0;
    const url = await serve((req, body, res) => {
      const json = JSON.stringify({ n: ++n, method: req.method, body });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) }).end(json);
    });
    const connection = await openLeanConnection({ url, method: "GET", headers: { authorization: "Basic x" } });
    try {
      for (let i = 1; i <= 3; i++) {
        const response = await connection.send();
        expect(response.status).toBe(200);
        expect(JSON.parse(response.body.toString())).toEqual({ n: i, method: "GET", body: "" });
      }
    } finally {
      connection.close();
    }
  });
});
