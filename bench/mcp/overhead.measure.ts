import { afterAll, beforeAll, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createTestStack, type TestStack } from "../../test/support/stack";
import { percentile, fmtMs } from "../lib/stats";

const WARMUP = 50;
const SAMPLES = 300;

let s: TestStack;
let base: string;
beforeAll(async () => {
  s = await createTestStack();
  base = await s.app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await s?.close();
});

it("tools/call overhead over REST execute", async () => {
  const ws = await s.connectedWorkspace();
  const headers = { authorization: `Bearer ${ws.apiKey}` };
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } }));
  await client.listTools();
  const rest = async () => {
    const res = await fetch(`${base}/v1/actions/SCALE_AI_LIST_PROJECTS/execute`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: '{"input":{}}' });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  const mcp = async () => {
    const r = await client.callTool({ name: "SCALE_AI_LIST_PROJECTS", arguments: {} });
    expect(r.isError).toBeFalsy();
  };
  for (let i = 0; i < WARMUP; i++) { await rest(); await mcp(); }
  const times = { rest: [] as number[], mcp: [] as number[] };
  for (let i = 0; i < SAMPLES; i++) {
    for (const [name, fn] of i % 2 === 0 ? ([["rest", rest], ["mcp", mcp]] as const) : ([["mcp", mcp], ["rest", rest]] as const)) {
      const t0 = performance.now();
      await fn();
      times[name].push(performance.now() - t0);
    }
  }
  const p = (xs: number[], q: number) => percentile(xs, q);
  console.log(`REST execute   p50 ${fmtMs(p(times.rest, 50))}  p99 ${fmtMs(p(times.rest, 99))}`);
  console.log(`MCP tools/call p50 ${fmtMs(p(times.mcp, 50))}  p99 ${fmtMs(p(times.mcp, 99))}`);
  console.log(`overhead       p50 ${fmtMs(p(times.mcp, 50) - p(times.rest, 50))}  p99 ${fmtMs(p(times.mcp, 99) - p(times.rest, 99))}  (ratio p50 ${(p(times.mcp, 50) / p(times.rest, 50)).toFixed(2)})`);
  await client.close();
});
