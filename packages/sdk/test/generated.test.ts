import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { INTEGRATIONS_DIR } from "@nagent/registry";
import { generate, GENERATED_DIR, writeGenerated, type GeneratedFiles } from "../scripts/generate";

const SDK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(SDK_DIR, "../..");

describe("generated types", () => {
  it("the committed files in src/generated are what `npm run sdk:generate` makes from the current API and manifests", async () => {
    const files = await generate();
    for (const [name, content] of Object.entries(files)) {
      expect(content, `packages/sdk/src/generated/${name} is stale: run \`npm run sdk:generate\` and commit the result`).toBe(readFileSync(join(GENERATED_DIR, name), "utf8"));
    }
  }, 120_000);

  it("a changed manifest changes the types: a new input property and a trigger become compile-time facts", async () => {
    const work = mkdtempSync(join(tmpdir(), "sdk-manifests-"));
    // The probe compiles against a copy of the SDK's source; inside packages/sdk/node_modules so that the SDK's
    // dependencies resolve (and neither the root tsc nor vitest picks it up).
    const probe = join(SDK_DIR, "node_modules", ".cache", `sdk-probe-${process.pid}-${Date.now()}`);
    try {
      cpSync(join(INTEGRATIONS_DIR, "scale-ai"), join(work, "scale-ai"), { recursive: true });
      const manifestPath = join(work, "scale-ai", "manifest.json");
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
      const batch = manifest.actions.find((a: { slug: string }) => a.slug === "SCALE_AI_CREATE_BATCH");
      batch.input.properties.sdk_probe = { type: "integer", minimum: 1, maximum: 5, description: "Added by the test." };
      batch.params.sdk_probe = { in: "body" };
      // A trigger in the agreed format (TRIGGER-FORMAT): the payload refers to the manifest's Task definition.
      manifest.triggers = [{
        slug: "SCALE_AI_TASK_COMPLETED", name: "Task completed", description: "A task completed.", group: "tasks", source: "callback",
        payload: { type: "object", additionalProperties: false, required: ["task_id", "task"], properties: { task_id: { type: "string", maxLength: 64 }, task: { $ref: "#/$defs/Task" }, response: { type: ["object", "null"] } } },
        examples: [],
        filters: {},
      }];
      writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
      // This branch's meta-schema predates triggers: a copy that lets the array through.
      const metaSchema = JSON.parse(readFileSync(join(INTEGRATIONS_DIR, "manifest.schema.json"), "utf8"));
      metaSchema.properties.triggers = { type: "array" };
      writeFileSync(join(work, "manifest.schema.json"), JSON.stringify(metaSchema));

      const files: GeneratedFiles = await generate(work, { metaSchemaPath: join(work, "manifest.schema.json") });
      const committed = (name: keyof GeneratedFiles) => readFileSync(join(GENERATED_DIR, name), "utf8");
      // The stale-output check above would catch a forgotten regeneration: the outputs differ.
      expect(files["openapi.ts"]).not.toBe(committed("openapi.ts"));
      expect(files["triggers.ts"]).not.toBe(committed("triggers.ts"));
      expect(files["actions.ts"]).toBe(committed("actions.ts"));
      expect(files["triggers.ts"]).toContain('SCALE_AI_TASK_COMPLETED: Schemas["SCALE_AI_TASK_COMPLETED.payload"];');

      // And the types say so: the new field compiles, a wrong type for it does not; the trigger's data is typed.
      cpSync(join(SDK_DIR, "src"), join(probe, "src"), { recursive: true });
      writeGenerated(files, join(probe, "src", "generated"));
      writeFileSync(join(probe, "probe.ts"), [
        'import { Nagent, createWebhookHandler, verifyWebhook } from "./src/index.js";',
        "declare const client: Nagent;",
        'await client.actions.execute("SCALE_AI_CREATE_BATCH", { name: "b", project: "p", sdk_probe: 3 });',
        "// @ts-expect-error sdk_probe is an integer",
        'await client.actions.execute("SCALE_AI_CREATE_BATCH", { name: "b", project: "p", sdk_probe: "3" });',
        'const event = await verifyWebhook("whsec_AAAA", {}, "");',
        'if (event.type === "SCALE_AI_TASK_COMPLETED") {',
        "  const id: string = event.data.task_id;",
        "  // @ts-expect-error task_id is a string",
        "  const wrong: number = event.data.task_id;",
        "  void id, wrong;",
        "}",
        "// @ts-expect-error not a trigger of this SDK",
        'if (event.type === "SCALE_AI_NO_SUCH_TRIGGER") void 0;',
        'createWebhookHandler("whsec_AAAA", { SCALE_AI_TASK_COMPLETED: (data) => { const id: string = data.task_id; void id; } });',
        "// @ts-expect-error a handler for a trigger this SDK does not know",
        'createWebhookHandler("whsec_AAAA", { SCALE_AI_NO_SUCH_TRIGGER: () => {} });',
        "export {};",
      ].join("\n"));
      writeFileSync(join(probe, "tsconfig.json"), JSON.stringify({
        extends: join(ROOT, "tsconfig.json"),
        compilerOptions: { noEmit: true, types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")] },
        include: ["probe.ts", "src"],
        exclude: [],
      }));
      const tsc = promisify(execFile)(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", join(probe, "tsconfig.json")], { cwd: ROOT });
      await expect(tsc.then(() => "compiles", (e: { stdout?: string }) => e.stdout ?? String(e))).resolves.toBe("compiles");

      // The same probe against the committed types fails: the field and the trigger are not there.
      writeGenerated(committedFiles(), join(probe, "src", "generated"));
      const stale = await promisify(execFile)(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", join(probe, "tsconfig.json")], { cwd: ROOT }).then(() => "", (e: { stdout?: string }) => e.stdout ?? "");
      expect(stale).toContain("sdk_probe");
    } finally {
      rmSync(work, { recursive: true, force: true });
      rmSync(probe, { recursive: true, force: true });
    }
  }, 180_000);
});

function committedFiles(): GeneratedFiles {
  const read = (name: string) => readFileSync(join(GENERATED_DIR, name), "utf8");
  return { "openapi.ts": read("openapi.ts"), "actions.ts": read("actions.ts"), "triggers.ts": read("triggers.ts"), "errors.ts": read("errors.ts"), "error-classes.ts": read("error-classes.ts") };
}


