import { describe, expect, it } from "vitest";
import { InvalidCursorError, loadRegistry, UnknownActionError, UnknownIntegrationError } from "@nagent/registry";
import { VALID_DIR } from "./manifest-fixtures";

const registry = loadRegistry(VALID_DIR);

describe("validateInput", () => {
  it("accepts a valid input", () => {
    expect(registry.validateInput("DEMO_CREATE_BATCH", { name: "b", project: "p" })).toEqual({ valid: true });
  });

  it("points a missing property at the property itself, in words", () => {
    expect(registry.validateInput("DEMO_CREATE_BATCH", { project: "p" })).toEqual({
      valid: false,
      errors: [{ path: "/name", keyword: "required", message: "name is required" }],
    });
  });

  it("points an unexpected property at that property", () => {
    expect(registry.validateInput("DEMO_CREATE_BATCH", { name: "b", project: "p", colour: "red" })).toEqual({
      valid: false,
      errors: [{ path: "/colour", keyword: "additionalProperties", message: "colour is not an allowed property" }],
    });
  });

  it("reports every error, nested ones with their JSON pointer", () => {
    const result = registry.validateInput("DEMO_CREATE_TASK", {
      type: "video",
      instruction: 7,
      attachments: [{ url: "https://x.example/a.png" }, { url: "not a url", kind: "pdf" }],
      tags: ["ok", "x".repeat(101)],
    });
    expect(result.valid).toBe(false);
    if (result.valid) return;
    expect(result.errors).toEqual(
      expect.arrayContaining([
        { path: "/type", keyword: "enum", message: 'type must be one of "imageannotation", "textcollection"' },
        { path: "/instruction", keyword: "type", message: "instruction must be a string" },
        { path: "/attachments/1/url", keyword: "format", message: "attachments[1].url must be a valid uri" },
        { path: "/attachments/1/kind", keyword: "enum", message: 'attachments[1].kind must be one of "image", "text"' },
        { path: "/tags/1", keyword: "maxLength", message: "tags[1] must be at most 100 characters long" },
      ]),
    );
    expect(result.errors).toHaveLength(5);
  });

  it("enforces x-max-json-bytes on free-form objects", () => {
    const metadata = { blob: "é".repeat(6000) }; // 12,000+ bytes as UTF-8 JSON, under maxProperties
    const result = registry.validateInput("DEMO_CREATE_TASK", { type: "imageannotation", instruction: "x", metadata });
    expect(result).toMatchObject({ valid: false, errors: [{ path: "/metadata", keyword: "x-max-json-bytes", message: expect.stringMatching(/at most 10240 bytes as JSON/) }] });
    expect(registry.validateInput("DEMO_CREATE_TASK", { type: "imageannotation", instruction: "x", metadata: { blob: "é".repeat(100) } })).toEqual({ valid: true });
  });

  it("says the input itself must be an object", () => {
    expect(registry.validateInput("DEMO_FINALIZE_BATCH", "b")).toEqual({ valid: false, errors: [{ path: "", keyword: "type", message: "input must be an object" }] });
  });

  it("throws UnknownActionError for an unknown slug", () => {
    expect(() => registry.validateInput("NOPE", {})).toThrow(UnknownActionError);
  });
});

describe("catalogue", () => {
  it("lists integrations with an auth summary and no secrets", () => {
    expect(registry.listIntegrations()).toEqual([
      {
        slug: "demo_app",
        name: "Demo App",
        description: expect.any(String),
        version: "1.2.0",
        categories: ["testing"],
        auth: {
          type: "api_key",
          scheme: "basic",
          fields: [
            { name: "api_key", description: "The account's API key.", secret: true, required: true },
            { name: "region", description: "Optional data region.", secret: false, required: false },
          ],
        },
        actions_count: 9,
      },
    ]);
  });

  it("gets an integration with its actions, or undefined", () => {
    const integration = registry.getIntegration("demo_app");
    expect(integration?.actions.map((a) => a.slug)).toContain("DEMO_UPLOAD_FILE");
    expect(integration?.actions[0]).toEqual({ slug: "DEMO_CREATE_BATCH", integration: "demo_app", name: "Create batch", description: "Creates a new batch in a project.", group: "batches" });
    expect(registry.getIntegration("nope")).toBeUndefined();
  });

  it("pages through all actions with an opaque cursor, in slug order", () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = registry.listActions({ limit: 4, cursor });
      seen.push(...page.actions.map((a) => a.slug));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(9);
  });

  it("searches slug, name and description (all words), and filters by integration", () => {
    expect(registry.listActions({ q: "batch" }).actions.map((a) => a.slug)).toEqual(["DEMO_CREATE_BATCH", "DEMO_FINALIZE_BATCH", "DEMO_SET_BATCH_SIZE"]);
    expect(registry.listActions({ q: "create BATCH" }).actions.map((a) => a.slug)).toEqual(["DEMO_CREATE_BATCH"]);
    expect(registry.listActions({ q: "newest first" }).actions.map((a) => a.slug)).toEqual(["DEMO_LIST_TASKS"]);
    expect(registry.listActions({ integration: "other" }).actions).toEqual([]);
    expect(registry.listActions({ integration: "demo_app", limit: 1000 }).actions).toHaveLength(9);
  });

  it("clamps the limit and refuses cursors it did not issue", () => {
    expect(registry.listActions({ limit: 0 }).actions).toHaveLength(1);
    expect(registry.listActions({ limit: 1000 }).next_cursor).toBeNull();
    expect(() => registry.listActions({ cursor: "garbage!" })).toThrow(InvalidCursorError);
    expect(() => registry.listActions({ cursor: Buffer.from('{"b":1}').toString("base64url") })).toThrow(InvalidCursorError);
  });

  it("describes an action with bundled schemas carrying only the $defs they reach", () => {
    const action = registry.getAction("DEMO_CREATE_TASK");
    expect(action).toMatchObject({ slug: "DEMO_CREATE_TASK", integration: "demo_app", name: "Create task", schema_version: null });
    expect(Object.keys((action?.input_schema as { $defs: object }).$defs)).toEqual(["Attachment"]);
    expect(Object.keys((action?.output_schema as { $defs: object }).$defs)).toEqual(["Annotation", "Batch", "Task"]);
    expect(registry.getAction("DEMO_FINALIZE_BATCH")?.input_schema).not.toHaveProperty("$defs");
    expect(registry.getAction("NOPE")).toBeUndefined();
  });

  it("hands out frozen schemas and specs, so no caller can change the registry", () => {
    const schema = registry.getAction("DEMO_FINALIZE_BATCH")!.input_schema as { required: string[] };
    expect(() => schema.required.push("x")).toThrow(TypeError);
    expect(() => ((registry.getRunSpec("DEMO_FINALIZE_BATCH")!.http as { path: string }).path = "/x")).toThrow(TypeError);
    expect(registry.validateInput("DEMO_FINALIZE_BATCH", { batch_name: "b" })).toEqual({ valid: true });
  });

  it("gives the runner what it needs, without the credentials schema", () => {
    expect(registry.getRunSpec("DEMO_UPLOAD_FILE")).toEqual({
      slug: "DEMO_UPLOAD_FILE",
      integration: "demo_app",
      base_url: "https://api.demo.example/v2",
      http: { method: "POST", path: "/v1/files/upload" },
      params: { file: { in: "file" }, display_name: { in: "form", wire: "name" } },
      response: "json",
      on_conflict: null,
      reconcile: "none", // a write that declares nothing is never retried blindly
      sensitive: { input: [], output: [] },
      auth: { type: "api_key", apply: { type: "basic", username: "api_key" }, hint: "api_key", check: { method: "GET", path: "/v1/projects", expect_status: [200] } },
    });
    expect(registry.getRunSpec("DEMO_DOWNLOAD_FILE")?.response).toBe("any");
    expect(registry.getRunSpec("DEMO_CREATE_TASK")?.on_conflict?.when_input).toBe("unique_id");
    expect(registry.getRunSpec("DEMO_LIST_TASKS")?.reconcile).toBe("idempotent"); // a read
  });

  it("gives the connection check the integration's auth, or undefined", () => {
    expect(registry.getAuthSpec("demo_app")).toEqual({ type: "api_key", apply: { type: "basic", username: "api_key" }, hint: "api_key", check: { method: "GET", path: "/v1/projects", expect_status: [200] } });
    expect(registry.getAuthSpec("nope")).toBeUndefined();
  });

  it("names the secret credential fields", () => {
    expect(registry.secretFields()).toEqual(["api_key"]);
    expect(registry.secretFields("demo_app")).toEqual(["api_key"]);
    expect(() => registry.secretFields("nope")).toThrow(UnknownIntegrationError);
  });

  it("validates credentials against the integration's schema", () => {
    expect(registry.validateCredentials("demo_app", { api_key: "live_12345678" })).toEqual({ valid: true });
    expect(registry.validateCredentials("demo_app", { api_key: "short" })).toEqual({
      valid: false,
      errors: [{ path: "/api_key", keyword: "minLength", message: "api_key must be at least 8 characters long" }],
    });
  });

  it("validates output data", () => {
    expect(registry.validateOutput("DEMO_FINALIZE_BATCH", { name: "b", status: "staging", extra: 1 })).toEqual({ valid: true });
    expect(registry.validateOutput("DEMO_FINALIZE_BATCH", { name: "b" })).toEqual({ valid: false, errors: [{ path: "/status", keyword: "required", message: "status is required" }] });
  });
});
