import { afterAll, beforeAll, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client as Client2026, StreamableHTTPClientTransport as Transport2026 } from "@modelcontextprotocol/client";
import { createTestStack, type TestStack } from "../../test/support/stack";
import { connectedWorkspace } from "../../test/support/workspace";
import { percentile, fmtMs } from "../lib/stats";

// MCP_BENCH_SAMPLES / MCP_BENCH_WARMUP shorten a run (e.g. a smoke check); the defaults are the figures' run.
const WARMUP = Number(process.env["MCP_BENCH_WARMUP"] ?? 50);
const SAMPLES = Number(process.env["MCP_BENCH_SAMPLES"] ?? 300);

let s: TestStack;
let base: string;
beforeAll(async () => {
  s = await createTestStack();
  base = await s.app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await s?.close();
});

it("tools/call overhead over REST execute, for both protocol generations", async () => {
  const ws = await connectedWorkspace(s, "Acme", { scaleKey: s.scaleKey });
  const headers = { authorization: `Bearer ${ws.apiKey}` };
  // 2025-11-25: SDK 1.x client (initialize once, then stateless POSTs). 2026-07-28: v2 client pinned to the new
  // protocol (server/discover once, then every request with its envelope).
  const legacy = new Client({ name: "bench", version: "1.0.0" });
  await legacy.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } }));
  const modern = new Client2026({ name: "bench", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await modern.connect(new Transport2026(new URL(`${base}/mcp`), { requestInit: { headers } }));
  await legacy.listTools();
  await modern.listTools();
  const rest = async () => {
    const res = await fetch(`${base}/v1/actions/SCALE_AI_LIST_PROJECTS/execute`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: '{"input":{}}' });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  const mcp2025 = async () => {
    const r = await legacy.callTool({ name: "SCALE_AI_LIST_PROJECTS", arguments: {} });
    expect(r.isError).toBeFalsy();
  };
  const mcp2026 = async () => {
    const r = await modern.callTool({ name: "SCALE_AI_LIST_PROJECTS", arguments: {} });
    expect(r.isError).toBeFalsy();
  };
  const fns = [["rest", rest], ["mcp2025", mcp2025], ["mcp2026", mcp2026]] as const;
  for (let i = 0; i < WARMUP; i++) for (const [, fn] of fns) await fn();
  const times = { rest: [] as number[], mcp2025: [] as number[], mcp2026: [] as number[] };
  for (let i = 0; i < SAMPLES; i++) {
    // Rotate the order so that none of the three always runs first (or right after another's cleanup).
    for (let k = 0; k < fns.length; k++) {
      const [name, fn] = fns[(i + k) % fns.length]!;
      const t0 = performance.now();
      await fn();
      times[name].push(performance.now() - t0);
    }
  }
  const p = (xs: number[], q: number) => percentile(xs, q);
  console.log(`samples ${SAMPLES} each (warm-up ${WARMUP})`);
  console.log(`REST execute                p50 ${fmtMs(p(times.rest, 50))}  p99 ${fmtMs(p(times.rest, 99))}`);
  for (const [name, label] of [["mcp2025", "MCP tools/call 2025-11-25"], ["mcp2026", "MCP tools/call 2026-07-28"]] as const) {
    console.log(`${label}   p50 ${fmtMs(p(times[name], 50))}  p99 ${fmtMs(p(times[name], 99))}  overhead p50 ${fmtMs(p(times[name], 50) - p(times.rest, 50))}  (ratio p50 ${(p(times[name], 50) / p(times.rest, 50)).toFixed(2)})`);
  }
  await Promise.all([legacy.close(), modern.close()]);
});
