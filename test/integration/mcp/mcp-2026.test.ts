import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Ajv2020 } from "ajv/dist/2020.js";
import { pageTools } from "../../../apps/api/src/routes/mcp/server";
import { bearer } from "../../support/app";
import type { TestStack } from "../../support/stack";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";
import { createMcpStack, createToolset, expectBatchToolErrors } from "./helpers";

// The 2026-07-28 generation of the protocol (no initialize; server/discover; every request carries its version and
// client capabilities), spoken by the v2 client package and by hand over HTTP, on the same URLs the 2025-era tests
// (mcp.test.ts, SDK 1.x client) use.

const MODERN = "2026-07-28";
let s: TestStack;
let base: string;
let ws: ConnectedWorkspace;
beforeAll(async () => ({ s, ws, base } = await createMcpStack("mcp26_project")));
afterAll(() => s?.close());

/** The v2 client, pinned to 2026-07-28: no fallback to initialize, so a server that only spoke 2025 would fail here. */
async function connect(apiKey: string, path = "/mcp"): Promise<Client> {
  const client = new Client({ name: "nagent-test-2026", version: "1.0.0" }, { versionNegotiation: { mode: { pin: MODERN } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: bearer(apiKey) } }));
  return client;
}

/** One JSON-RPC request by hand, as a 2026-07-28 client sends it: the `_meta` envelope and the standard headers. */
async function rpc(apiKey: string, method: string, params: Record<string, unknown> = {}, opts: { version?: string; path?: string; name?: string } = {}) {
  const version = opts.version ?? MODERN;
  const headers: Record<string, string> = {
    "content-type": "application/json", accept: "application/json, text/event-stream",
    "mcp-protocol-version": version, "mcp-method": method, ...bearer(apiKey),
    ...(opts.name !== undefined ? { "mcp-name": opts.name } : {}),
  };
  const meta = {
    "io.modelcontextprotocol/protocolVersion": version,
    "io.modelcontextprotocol/clientInfo": { name: "raw-http", version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
  const res = await fetch(`${base}${opts.path ?? "/mcp"}`, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params: { ...params, _meta: meta } }) });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, body: JSON.parse(text) as { result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown }; id: unknown } };
}

const toolset = (apiKey: string, body: unknown) => createToolset(s, apiKey, body);

describe("MCP 2026-07-28", () => {
  it("answers server/discover with the served version, capabilities and server info", async () => {
    const { status, contentType, body } = await rpc(ws.apiKey, "server/discover");
    expect(status).toBe(200);
    expect(contentType).toMatch(/^application\/json/);
    expect(body.id).toBe(7);
    expect(body.result).toMatchObject({
      supportedVersions: [MODERN], capabilities: { tools: { listChanged: false } }, instructions: expect.stringContaining("run"),
      _meta: { "io.modelcontextprotocol/serverInfo": { name: "nagent-integrations" } },
    });
  });

  it("lists the 40 tools through the v2 client, pages with nextCursor, and refuses a cursor it did not issue", async () => {
    const client = await connect(ws.apiKey);
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
    expect(client.getServerVersion()?.name).toBe("nagent-integrations");
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(40);
    expect(tools.find((t) => t.name === "SCALE_AI_CREATE_BATCH")!.inputSchema).toMatchObject({ type: "object", properties: { name: expect.any(Object), project: expect.any(Object) } });
    expect(tools.find((t) => t.name === "SCALE_AI_LIST_PROJECTS")!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    // One page of 100 holds all 40; a cursor the server issues for offset 30 (same encoding) gives the last 10.
    const firstPage = await rpc(ws.apiKey, "tools/list");
    expect((firstPage.body.result!["tools"] as unknown[])).toHaveLength(40);
    expect(firstPage.body.result!["nextCursor"]).toBeUndefined();
    const cursor = pageTools(tools, undefined, 30).nextCursor!;
    const page = await client.listTools({ cursor });
    expect(page.tools.map((t) => t.name)).toEqual(tools.slice(30).map((t) => t.name));
    expect(page.nextCursor).toBeUndefined();
    const bad = await rpc(ws.apiKey, "tools/list", { cursor: "not a cursor!" });
    expect(bad.body.error).toMatchObject({ code: -32602 });
    await client.close();
  });

  it("calls SCALE_AI_CREATE_BATCH: structuredContent, a run with source mcp, then UPSTREAM_CONFLICT, and a bad input names its pointer", async () => {
    const client = await connect(ws.apiKey);
    const { tools } = await client.listTools();
    const create = tools.find((t) => t.name === "SCALE_AI_CREATE_BATCH")!;
    const first = await client.callTool({ name: "SCALE_AI_CREATE_BATCH", arguments: { name: "mcp26_batch", project: "mcp26_project" }, _meta: { idempotency_key: "mcp26-create-1" } });
    expect(first.isError).toBeFalsy();
    expect(first.structuredContent).toMatchObject({ name: "mcp26_batch", project: "mcp26_project" });
    expect(JSON.parse((first.content[0] as { text: string }).text)).toEqual(first.structuredContent);
    const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(create.outputSchema as object);
    expect(validate(first.structuredContent), JSON.stringify(validate.errors)).toBe(true);
    const runId = (first._meta as { run_id: string }).run_id;
    const run = (await s.app.inject({ method: "GET", url: `/v1/runs/${runId}`, headers: bearer(ws.apiKey) })).json().run;
    expect(run).toMatchObject({ source: "mcp", toolset_id: null, action: "SCALE_AI_CREATE_BATCH", status: "succeeded", connection_id: ws.connectionId });

    // The same idempotency key replays the first run instead of creating the batch again.
    const replay = await client.callTool({ name: "SCALE_AI_CREATE_BATCH", arguments: { name: "mcp26_batch", project: "mcp26_project" }, _meta: { idempotency_key: "mcp26-create-1" } });
    expect(replay.isError).toBeFalsy();
    expect((replay._meta as { run_id: string }).run_id).toBe(runId);

    const again = await expectBatchToolErrors(client, { name: "mcp26_batch", project: "mcp26_project" });
    expect(again["_meta"]).toMatchObject({ error_code: "UPSTREAM_CONFLICT", run_id: expect.any(String) });
    await client.close();
  });

  it("serves a search-mode tool set as its two meta-tools, and call_tool runs an action recorded under the set", async () => {
    const t = (await toolset(ws.apiKey, { name: "search-2026", mode: "search" })).json().toolset;
    const client = await connect(ws.apiKey, `/mcp/${t.id}`);
    expect((await client.listTools()).tools.map((x) => x.name)).toEqual(["search_tools", "call_tool"]);
    const found = await client.callTool({ name: "search_tools", arguments: { query: "group tasks into a batch", limit: 3 } });
    const matches = (found.structuredContent as { tools: { name: string; connection_ready: boolean }[] }).tools;
    expect(matches[0]).toMatchObject({ name: "SCALE_AI_CREATE_BATCH", connection_ready: true });
    const called = await client.callTool({ name: "call_tool", arguments: { slug: "SCALE_AI_LIST_PROJECTS", arguments: {} } });
    expect(called.isError).toBeFalsy();
    const runs = (await s.app.inject({ method: "GET", url: `/v1/runs?toolset_id=${t.id}`, headers: bearer(ws.apiKey) })).json().runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ source: "mcp", toolset_id: t.id, action: "SCALE_AI_LIST_PROJECTS" });
    await client.close();
  });

  it("answers GET and DELETE with 405, an unsupported version with -32022 naming the served ones, no key with 401, another workspace's tool set with 404", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(`${base}/mcp`, { method, headers: { ...bearer(ws.apiKey), "mcp-protocol-version": MODERN } });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
    }
    const future = await rpc(ws.apiKey, "tools/list", {}, { version: "2099-01-01" });
    expect(future.status).toBe(400);
    expect(future.body.error).toMatchObject({ code: -32022, data: { supported: expect.arrayContaining([MODERN]), requested: "2099-01-01" } });
    expect(future.body.id).toBe(7);

    const anonymous = await fetch(`${base}/mcp`, { method: "POST", headers: { "content-type": "application/json", "mcp-protocol-version": MODERN, "mcp-method": "server/discover" }, body: "{}" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain(`resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`);

    // Another workspace's tool set is not there, in this generation too.
    const t = (await toolset(ws.apiKey, { name: "private-2026" })).json().toolset;
    const other = await connectedWorkspace(s, "mcp26-other");
    const foreign = await rpc(other.apiKey, "tools/list", {}, { path: `/mcp/${t.id}` });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatchObject({ code: expect.any(Number) });
    expect((await rpc(ws.apiKey, "tools/list", {}, { path: `/mcp/${t.id}` })).status).toBe(200);
  });

  it("serves both generations on one URL: initialize (2024-11-05 … 2025-11-25) answered in JSON, and a negotiating v2 client picks 2026-07-28", async () => {
    const legacyHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream", ...bearer(ws.apiKey) };
    for (const version of ["2024-11-05", "2025-06-18", "2025-11-25"]) {
      const res = await fetch(`${base}/mcp`, { method: "POST", headers: legacyHeaders, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "raw-2025", version: "1.0.0" } } }) });
      expect(res.status, version).toBe(200);
      expect(res.headers.get("content-type"), version).toMatch(/^application\/json/);
      expect(res.headers.get("mcp-session-id"), version).toBeNull();
      const body = await res.json() as { result: unknown };
      expect(body.result, version).toMatchObject({ protocolVersion: version, serverInfo: { name: "nagent-integrations" }, capabilities: { tools: {} } });
    }
    // A 2025-era request naming a version the server does not speak, in the header those clients send after initialize.
    const stale = await fetch(`${base}/mcp`, { method: "POST", headers: { ...legacyHeaders, "mcp-protocol-version": "2023-01-01" }, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) });
    expect(stale.status).toBe(400);
    expect((await stale.json() as { error: { message: string } }).error.message).toMatch(/protocol version/i);

    const auto = new Client({ name: "nagent-test-auto", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
    await auto.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: bearer(ws.apiKey) } }));
    expect(auto.getNegotiatedProtocolVersion()).toBe(MODERN);
    const legacy = new Client({ name: "nagent-test-legacy", version: "1.0.0" });
    await legacy.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: bearer(ws.apiKey) } }));
    expect(legacy.getNegotiatedProtocolVersion()).toBe("2025-11-25");
    const [a, b] = await Promise.all([auto.listTools(), legacy.listTools()]);
    expect(a.tools.map((t) => t.name)).toEqual(b.tools.map((t) => t.name));
    await Promise.all([auto.close(), legacy.close()]);
  });

  it("measures tools/list as a client receives it (mode all vs search)", async () => {
    const all = await rpc(ws.apiKey, "tools/list");
    const t = (await toolset(ws.apiKey, { name: "search-size", mode: "search" })).json().toolset;
    const search = await rpc(ws.apiKey, "tools/list", {}, { path: `/mcp/${t.id}` });
    const size = (r: typeof all) => ({ response_bytes: Buffer.byteLength(r.text), tools_bytes: Buffer.byteLength(JSON.stringify(r.body.result!["tools"])) });
    console.log(`tools/list size (2026-07-28): mode all ${JSON.stringify(size(all))}; mode search ${JSON.stringify(size(search))}`);
    expect(size(search).tools_bytes * 10).toBeLessThan(size(all).tools_bytes);
  });
});
