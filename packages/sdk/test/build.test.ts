import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const SDK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
}

/** Module specifiers a file imports (static `from "…"` and `import("…")`). */
function imports(file: string): string[] {
  return [...readFileSync(file, "utf8").matchAll(/(?:from\s+|import\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]!);
}

describe("the publishable package", () => {
  it("imports nothing of the server: only its own files and openapi-fetch", () => {
    const outside = files(join(SDK_DIR, "src")).flatMap((file) => imports(file).filter((s) => !s.startsWith("./") && !s.startsWith("../") && s !== "openapi-fetch").map((s) => `${file}: ${s}`));
    expect(outside).toEqual([]);
    const escaping = files(join(SDK_DIR, "src")).flatMap((file) => imports(file).filter((s) => s.startsWith("../") && !resolve(dirname(file), s).startsWith(join(SDK_DIR, "src"))));
    expect(escaping).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(SDK_DIR, "package.json"), "utf8"));
    expect(Object.keys(manifest.dependencies)).toEqual(["openapi-fetch"]);
  });

  it("builds to ESM with types that plain Node imports (npm run build)", async () => {
    await run("npm", ["run", "build"], { cwd: SDK_DIR });
    const dist = join(SDK_DIR, "dist");
    const pkg = JSON.parse(readFileSync(join(dist, "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "@nagent/sdk", type: "module", exports: { ".": { types: "./index.d.ts", import: "./index.js" } }, dependencies: { "openapi-fetch": expect.any(String) } });
    expect(files(dist).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(readFileSync(join(dist, "index.d.ts"), "utf8")).toContain("verifyWebhook");
    const script = `const sdk = await import(${JSON.stringify(join(dist, "index.js"))});
      const client = new sdk.Nagent({ baseUrl: "http://127.0.0.1:1" });
      console.log(JSON.stringify({ exports: Object.keys(sdk).sort(), actions: sdk.ACTION_SLUGS.length, pages: typeof client.runs.list().pages,
        resources: [client.triggers.list().pages, client.events.list().pages, client.connections.events("id").pages, client.subscriptions.rotateSecret,
          client.subscriptions.test, client.events.redeliver, client.runs.reconcile, client.workspace.settings.update].map((f) => typeof f) }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: dist });
    const out = JSON.parse(stdout);
    expect(out.exports).toEqual(expect.arrayContaining(["Nagent", "verifyWebhook", "createWebhookHandler", "NagentApiError", "NotFoundError", "ACTION_SLUGS", "TRIGGER_SLUGS", "Paginator"]));
    expect(out.actions).toBe(40);
    expect(out.pages).toBe("function");
    expect(out.resources).toEqual(Array(8).fill("function"));
  }, 120_000);
});
