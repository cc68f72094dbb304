import { createServer, type IncomingMessage } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";

/**
 * What happens to the answer of a matching request. The request itself always reaches the upstream and is served
 * there in full (a task is created); only the way back is disturbed:
 * - `drop`: the client's connection is destroyed instead of answering (the answer is lost);
 * - `delayMs`: the answer is held this long first (the client may time out, or die, meanwhile).
 */
export interface AnswerRule {
  /** `METHOD /path` prefix, e.g. `POST /v1/task/`. */
  readonly route: string;
  readonly drop?: boolean;
  readonly delayMs?: number;
  /** Apply to the next `times` matching requests only (default 1). */
  readonly times?: number;
}

/**
 * A loopback HTTP proxy in front of the Scale sandbox that loses or holds upstream *answers*, for tests of "the
 * upstream did the work but we never heard back" (the sandbox's own faults act before a request is served, so they
 * model lost requests, not lost answers). Point a connection's `base_url` at `url`.
 */
export async function startLossyProxy(target: string): Promise<{
  url: string;
  /** Adds a rule (rules are tried in the order added). */
  rule(rule: AnswerRule): void;
  /** Requests served by the upstream whose answer a rule dropped or held. */
  readonly disturbed: { route: string; status: number }[];
  close(): Promise<void>;
}> {
  const rules: { rule: AnswerRule; left: number }[] = [];
  const disturbed: { route: string; status: number }[] = [];
  const holds = new Set<() => void>();
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const route = `${req.method} ${req.url ?? "/"}`;
    const active = rules.find((r) => r.left > 0 && route.startsWith(r.rule.route));
    if (active) active.left -= 1;
    const headers: Record<string, string> = {};
    for (const name of ["authorization", "content-type", "accept", "idempotency-key"]) {
      const v = req.headers[name];
      if (typeof v === "string") headers[name] = v;
    }
    let upstream: Response;
    try {
      upstream = await fetch(`${target}${req.url ?? "/"}`, { method: req.method ?? "GET", headers, ...(body.length > 0 ? { body } : {}) });
    } catch {
      req.socket.destroy();
      return;
    }
    const answer = Buffer.from(await upstream.arrayBuffer());
    if (active) {
      disturbed.push({ route, status: upstream.status });
      if (active.rule.delayMs) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            holds.delete(release);
            resolve();
          }, active.rule.delayMs);
          const release = () => {
            clearTimeout(timer);
            resolve();
          };
          holds.add(release);
        });
      }
      if (active.rule.drop) {
        req.socket.destroy();
        return;
      }
    }
    if (req.socket.destroyed) return;
    const out: Record<string, string> = { "content-type": upstream.headers.get("content-type") ?? "application/json" };
    const retryAfter = upstream.headers.get("retry-after");
    if (retryAfter) out["retry-after"] = retryAfter;
    res.writeHead(upstream.status, out).end(answer);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    rule: (rule) => rules.push({ rule, left: rule.times ?? 1 }),
    disturbed,
    async close() {
      for (const release of holds) release();
      holds.clear();
      server.closeAllConnections();
      server.close();
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
