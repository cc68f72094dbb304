import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "./load-config";
import { readEnvironment } from "./env-file";
import { parseMasterKeys } from "./master-keys";

const KEY = Buffer.alloc(32, 7).toString("base64");
const SECRETS = { NAGENT_ADMIN_TOKEN: "t".repeat(40), NAGENT_MASTER_KEYS: `v1:${KEY}` };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("applies the development defaults of CONTRACT.md", () => {
    const c = loadConfig(SECRETS);
    expect(c).toMatchObject({
      nodeEnv: "development",
      databaseUrl: "postgresql://postgres@127.0.0.1:5432/nagent",
      redisUrl: "redis://127.0.0.1:6379",
      host: "127.0.0.1",
      port: 3000,
      scaleBaseUrl: "https://api.scale.com",
      egress: { allowPrivate: true, allowlist: [] },
    });
    expect(c.masterKeys.map((k) => k.id)).toEqual(["v1"]);
  });

  it("names every malformed variable and never echoes its value", () => {
    const problems = problemsOf({ ...SECRETS, PORT: "http", DATABASE_URL: "mysql://secret-host/db", LOG_LEVEL: "loud" });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["DATABASE_URL", "LOG_LEVEL", "PORT"]);
    expect(problems.join("\n")).not.toContain("secret-host");
  });

  it("requires the admin token and the master keys, naming them", () => {
    const problems = problemsOf({ NODE_ENV: "production" });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["NAGENT_ADMIN_TOKEN", "NAGENT_MASTER_KEYS"]);
  });

  it("derives the worker lock from the upstream timeout unless NAGENT_WORKER_LOCK_MS sets it", () => {
    expect(loadConfig(SECRETS).workerLockMs).toBe(45_000); // 30 s timeout + 15 s
    expect(loadConfig(SECRETS).syncInline).toBe(true);
    expect(loadConfig({ ...SECRETS, NAGENT_SYNC_INLINE: "false" }).syncInline).toBe(false);
    expect(loadConfig({ ...SECRETS, NAGENT_UPSTREAM_TIMEOUT_MS: "1000" }).workerLockMs).toBe(30_000);
    expect(loadConfig({ ...SECRETS, NAGENT_WORKER_LOCK_MS: "2000" }).workerLockMs).toBe(2_000);
    expect(problemsOf({ ...SECRETS, NAGENT_WORKER_LOCK_MS: "10" })[0]).toMatch(/^NAGENT_WORKER_LOCK_MS/);
  });

  it("refuses a short admin token", () => {
    expect(problemsOf({ ...SECRETS, NAGENT_ADMIN_TOKEN: "short" })[0]).toMatch(/^NAGENT_ADMIN_TOKEN/);
  });

  it("closes private egress by default in production", () => {
    expect(loadConfig({ ...SECRETS, NODE_ENV: "production" }).egress.allowPrivate).toBe(false);
    expect(loadConfig({ ...SECRETS, NODE_ENV: "production", NAGENT_ALLOW_PRIVATE_EGRESS: "true" }).egress.allowPrivate).toBe(true);
  });
});

describe("parseMasterKeys", () => {
  it("parses a keyring whose last key is the active one", () => {
    const keys = parseMasterKeys(`v1:${KEY},v2:${Buffer.alloc(32, 9).toString("base64")}`);
    expect(keys.map((k) => k.id)).toEqual(["v1", "v2"]);
    expect(keys[1]!.key.length).toBe(32);
  });

  it.each([
    ["", /no keys/],
    [`${KEY}`, /no valid id/],
    ["v1:abc", /must be 32 bytes/],
    [`v1:${KEY},v1:${KEY}`, /appears twice/],
    ["v1:not base64!", /not base64/],
  ])("rejects %j", (spec, message) => {
    expect(() => parseMasterKeys(spec)).toThrow(message);
  });

  it("never puts key material in an error", () => {
    const material = Buffer.alloc(31, 1).toString("base64");
    expect(() => parseMasterKeys(`v1:${material}`)).toThrow(/^(?![\s\S]*AQEB)/);
  });
});

describe("readEnvironment", () => {
  it("generates missing development secrets into .env.local (mode 0600) once", () => {
    const dir = mkdtempSync(join(tmpdir(), "nagent-env-"));
    const envFile = join(dir, ".env.local");
    const first = readEnvironment({}, { envFile, generate: true });
    expect([...first.generated].sort()).toEqual(["NAGENT_ADMIN_TOKEN", "NAGENT_MASTER_KEYS", "SANDBOX_KEYS"]);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(() => loadConfig(first.env)).not.toThrow();
    const second = readEnvironment({}, { envFile, generate: true });
    expect(second.generated).toEqual([]);
    expect(second.env["NAGENT_ADMIN_TOKEN"]).toBe(first.env["NAGENT_ADMIN_TOKEN"]);
  });

  it("lets the process environment win over the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "nagent-env-"));
    const envFile = join(dir, ".env.local");
    writeFileSync(envFile, "PORT=4000\n");
    expect(readEnvironment({ PORT: "5000" }, { envFile, generate: false }).env["PORT"]).toBe("5000");
  });

  it("never reads or writes the file in production", () => {
    const dir = mkdtempSync(join(tmpdir(), "nagent-env-"));
    const envFile = join(dir, ".env.local");
    writeFileSync(envFile, "NAGENT_ADMIN_TOKEN=from-file\n");
    const env = readEnvironment({ NODE_ENV: "production" }, { envFile, generate: true });
    expect(env.generated).toEqual([]);
    expect(env.env["NAGENT_ADMIN_TOKEN"]).toBeUndefined();
    expect(readFileSync(envFile, "utf8")).toBe("NAGENT_ADMIN_TOKEN=from-file\n");
  });
});
