import { expect } from "vitest";
import { bearer } from "../../support/app";
import { createStackWithWorkspace, type TestStack } from "../../support/stack";
import type { ConnectedWorkspace } from "../../support/workspace";

/** The MCP tests' set-up: a stack listening on loopback (MCP clients speak real HTTP) and a workspace with `project`. */
export async function createMcpStack(project: string): Promise<{ s: TestStack; ws: ConnectedWorkspace; base: string }> {
  const { s, ws } = await createStackWithWorkspace({ listen: true, workspace: { projects: [project] } });
  return { s, ws, base: s.baseUrl! };
}

/** `POST /v1/toolsets` as the workspace. */
export const createToolset = (s: TestStack, apiKey: string, body: unknown) => s.app.inject({ method: "POST", url: "/v1/toolsets", headers: bearer(apiKey), payload: body as object });

/** The `error` of a tool result's JSON text content. */
export const toolError = (result: Record<string, unknown>) => JSON.parse((result["content"] as { text: string }[])[0]!.text).error;

/** What both MCP client generations offer for a tool call. */
interface ToolCaller {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<Record<string, unknown>>;
}

/**
 * The batch create's two tool errors, for a batch just created: the same create again is Scale's 409
 * (UPSTREAM_CONFLICT), and one without `name` is refused before any run (VALIDATION_FAILED at /name). Answers the
 * repeated call's result (for protocol-specific checks such as `_meta`).
 */
export async function expectBatchToolErrors(client: ToolCaller, batch: { name: string; project: string }): Promise<Record<string, unknown>> {
  const again = await client.callTool({ name: "SCALE_AI_CREATE_BATCH", arguments: batch });
  expect(again["isError"]).toBe(true);
  expect(toolError(again)).toMatchObject({ code: "UPSTREAM_CONFLICT", message: expect.any(String) });

  const bad = await client.callTool({ name: "SCALE_AI_CREATE_BATCH", arguments: { project: batch.project } });
  expect(bad["isError"]).toBe(true);
  const error = toolError(bad);
  expect(error.code).toBe("VALIDATION_FAILED");
  expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "/name", keyword: "required" })]));
  expect(error.message).toContain("/name");
  return again;
}
