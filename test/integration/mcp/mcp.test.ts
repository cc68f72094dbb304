import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import { bearer } from "../../support/app";
import type { TestStack } from "../../support/stack";
import { connectedWorkspace, type ConnectedWorkspace } from "../../support/workspace";
import { createMcpStack, createToolset, expectBatchToolErrors, toolError } from "./helpers";

let s: TestStack;
let base: string;
let ws: ConnectedWorkspace;
beforeAll(async () => ({ s, ws, base } = await createMcpStack("mcp_project")));
afterAll(() => s?.close());

/** The SDK's own client over real HTTP. */
async function connect(apiKey: string, path = "/mcp"): Promise<Client> {
  const client = new Client({ name: "nagent-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: bearer(apiKey) } }));
  return client;
}

async function allTools(client: Client) {
  const tools = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

const toolset = (apiKey: string, body: unknown) => createToolset(s, apiKey, body);
/** The `tools` array of tools/list as JSON, as the client received it (UTF-8 bytes). */
const sizeOf = (tools: unknown[]) => {
  const bytes = Buffer.byteLength(JSON.stringify(tools));
  return { bytes, approx_tokens: Math.round(bytes / 4) };
};

describe("MCP endpoint", () => {
  it("lists every connected action as a tool with the registry's schemas and annotations, and measures the list", async () => {
    const client = await connect(ws.apiKey);
    expect(client.getServerVersion()?.name).toBe("nagent-integrations");
    const tools = await allTools(client);
    expect(tools).toHaveLength(40);
    const create = tools.find((t) => t.name === "SCALE_AI_CREATE_BATCH")!;
    expect(create.inputSchema).toMatchObject({ type: "object", properties: { name: expect.any(Object), project: expect.any(Object) } });
    expect(create.outputSchema).toMatchObject({ type: "object" });
    expect(tools.find((t) => t.name === "SCALE_AI_LIST_PROJECTS")!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(tools.find((t) => t.name === "SCALE_AI_DELETE_TASK_TAGS")!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    const search = await toolset(ws.apiKey, { name: "size-search", mode: "search" });
    const searchClient = await connect(ws.apiKey, `/mcp/${search.json().toolset.id}`);
    const meta = await allTools(searchClient);
    console.log(`tools/list size: mode all ${JSON.stringify(sizeOf(tools))}; mode search ${JSON.stringify(sizeOf(meta))}`);
    expect(sizeOf(meta).bytes * 10).toBeLessThan(sizeOf(tools).bytes);
    await Promise.all([client.close(), searchClient.close()]);
  });

  it("calls SCALE_AI_CREATE_BATCH: structuredContent matching its output schema, then UPSTREAM_CONFLICT, and a bad input names its pointer", async () => {
    const client = await connect(ws.apiKey);
    const tools = await allTools(client);
    const create = tools.find((t) => t.name === "SCALE_AI_CREATE_BATCH")!;
    const first = await client.callTool({ name: "SCALE_AI_CREATE_BATCH", arguments: { name: "mcp_batch_1", project: "mcp_project" } });
    expect(first.isError).toBeFalsy();
    expect(first.structuredContent).toMatchObject({ name: "mcp_batch_1", project: "mcp_project" });
    const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(create.outputSchema!);
    expect(validate(first.structuredContent), JSON.stringify(validate.errors)).toBe(true);
    const runId = (first._meta as { run_id: string }).run_id;
    const run = (await s.app.inject({ method: "GET", url: `/v1/runs/${runId}`, headers: bearer(ws.apiKey) })).json().run;
    expect(run).toMatchObject({ source: "mcp", toolset_id: null, action: "SCALE_AI_CREATE_BATCH", status: "succeeded", connection_id: ws.connectionId });

    await expectBatchToolErrors(client, { name: "mcp_batch_1", project: "mcp_project" });
    await client.close();
  });

  it("answers 401 in the MCP error shape, pointing at the protected-resource metadata", async () => {
    const res = await fetch(`${base}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", error: { code: expect.any(Number), message: expect.any(String) }, id: null });
    const header = res.headers.get("www-authenticate")!;
    expect(header).toContain(`resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`);
    const meta = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(meta).toMatchObject({ resource: `${base}/mcp`, bearer_methods_supported: ["header"] });
    const wrongKey = await fetch(`${base}/mcp`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer nk_nope" }, body: "{}" });
    expect(wrongKey.status).toBe(401);
    expect((await fetch(`${base}/mcp`, { headers: bearer(ws.apiKey) })).status).toBe(405);
  });
});

describe("tool sets", () => {
  it("serves only the chosen actions, pinned to its connection, and records its id on the run", async () => {
    const created = await toolset(ws.apiKey, { name: "batches-only", actions: ["SCALE_AI_LIST_PROJECTS"], groups: ["batches"], connection_id: ws.connectionId });
    expect(created.statusCode).toBe(201);
    const t = created.json().toolset;
    expect(t.mcp_url).toMatch(new RegExp(`/mcp/${t.id}$`));
    const client = await connect(ws.apiKey, `/mcp/${t.id}`);
    const names = (await allTools(client)).map((x) => x.name).sort();
    expect(names).toEqual(["SCALE_AI_CREATE_BATCH", "SCALE_AI_FINALIZE_BATCH", "SCALE_AI_GET_BATCH", "SCALE_AI_GET_BATCH_STATUS", "SCALE_AI_LIST_BATCHES", "SCALE_AI_LIST_PROJECTS"]);
    const outside = await client.callTool({ name: "SCALE_AI_GET_TEAMS", arguments: {} });
    expect(outside.isError).toBe(true);
    expect(toolError(outside).code).toBe("NOT_FOUND");
    const listed = await client.callTool({ name: "SCALE_AI_LIST_PROJECTS", arguments: {} });
    expect(listed.isError).toBeFalsy();
    const runs = (await s.app.inject({ method: "GET", url: `/v1/runs?toolset_id=${t.id}`, headers: bearer(ws.apiKey) })).json().runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ source: "mcp", toolset_id: t.id, action: "SCALE_AI_LIST_PROJECTS" });
    await client.close();
  });

  it("validates, updates and deletes; another workspace sees none of them (404) and none of the runs", async () => {
    const bad = await toolset(ws.apiKey, { name: "bad", actions: ["SCALE_AI_NOPE"], groups: ["nope"] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { path: string }) => d.path)).toEqual(["/actions/0", "/groups/0"]);
    const t = (await toolset(ws.apiKey, { name: "to-change" })).json().toolset;
    expect((await toolset(ws.apiKey, { name: "to-change" })).statusCode).toBe(409);
    const patched = await s.app.inject({ method: "PATCH", url: `/v1/toolsets/${t.id}`, headers: bearer(ws.apiKey), payload: { mode: "search" } });
    expect(patched.json().toolset.mode).toBe("search");

    const other = await connectedWorkspace(s, "mcp-other");
    for (const method of ["GET", "PATCH", "DELETE"] as const) {
      const res = await s.app.inject({ method, url: `/v1/toolsets/${t.id}`, headers: bearer(other.apiKey), ...(method === "PATCH" ? { payload: { name: "x" } } : {}) });
      expect(res.statusCode, method).toBe(404);
    }
    expect((await s.app.inject({ method: "GET", url: "/v1/toolsets", headers: bearer(other.apiKey) })).json().toolsets).toEqual([]);
    const foreign = await fetch(`${base}/mcp/${t.id}`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...bearer(other.apiKey) }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) });
    expect(foreign.status).toBe(404);
    expect((await s.app.inject({ method: "GET", url: "/v1/runs?source=mcp", headers: bearer(other.apiKey) })).json().runs).toEqual([]);

    expect((await s.app.inject({ method: "DELETE", url: `/v1/toolsets/${t.id}`, headers: bearer(ws.apiKey) })).statusCode).toBe(204);
    expect((await s.app.inject({ method: "GET", url: `/v1/toolsets/${t.id}`, headers: bearer(ws.apiKey) })).statusCode).toBe(404);
  });
});

describe("tool search", () => {
  const QUERIES: [string, string][] = [
    ["tag a task", "SCALE_AI_ADD_TASK_TAGS"],
    ["who is on my team", "SCALE_AI_GET_TEAMS"],
    ["upload a document to transcribe", "SCALE_AI_CREATE_DOCUMENT_TRANSCRIPTION_TASK"],
    ["invite a colleague by email", "SCALE_AI_INVITE_TEAM_MEMBER"],
    ["remove tags from a task", "SCALE_AI_DELETE_TASK_TAGS"],
    ["group tasks into a batch", "SCALE_AI_CREATE_BATCH"],
    ["how many tasks of a batch are done", "SCALE_AI_GET_BATCH_STATUS"],
    ["draw boxes on images", "SCALE_AI_CREATE_IMAGE_ANNOTATION_TASK"],
    ["import a file from a url", "SCALE_AI_IMPORT_FILE"],
    ["set the labels of a project", "SCALE_AI_SET_PROJECT_ONTOLOGY"],
    ["resend the callback of a task", "SCALE_AI_POST_V1_TASK_SEND_CALLBACK"],
    ["list all my projects", "SCALE_AI_LIST_PROJECTS"],
    ["attach key value metadata to a task", "SCALE_AI_SET_TASK_METADATA"],
    ["highlight entities in text", "SCALE_AI_CREATE_NAMED_ENTITY_RECOGNITION_TASK"],
    ["upload a local file", "SCALE_AI_UPLOAD_FILE"],
  ];

  it("exposes two meta-tools, ranks the expected action first for each query, and call_tool runs it", async () => {
    const t = (await toolset(ws.apiKey, { name: "search", mode: "search" })).json().toolset;
    const client = await connect(ws.apiKey, `/mcp/${t.id}`);
    expect((await allTools(client)).map((x) => x.name)).toEqual(["search_tools", "call_tool"]);
    for (const [query, expected] of QUERIES) {
      const result = await client.callTool({ name: "search_tools", arguments: { query, limit: 3 } });
      const found = (result.structuredContent as { tools: { name: string; inputSchema: unknown; annotations: unknown; connection_ready: boolean }[] }).tools;
      expect(found[0]?.name, query).toBe(expected);
      expect(found[0]).toMatchObject({ inputSchema: expect.any(Object), annotations: expect.any(Object), connection_ready: true });
    }
    const called = await client.callTool({ name: "call_tool", arguments: { slug: "SCALE_AI_LIST_PROJECTS", arguments: {} } });
    expect(called.isError).toBeFalsy();
    const bad = await client.callTool({ name: "call_tool", arguments: { slug: "SCALE_AI_CREATE_BATCH", arguments: { name: "x" } } });
    expect(toolError(bad).details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/project" })]));
    await client.close();
  });

  it("serves GET /v1/actions?q= with the same ranking", async () => {
    const res = await s.app.inject({ method: "GET", url: "/v1/actions?q=batch%20status", headers: bearer(ws.apiKey) });
    expect(res.json().actions[0].slug).toBe("SCALE_AI_GET_BATCH_STATUS");
  });
});
