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
