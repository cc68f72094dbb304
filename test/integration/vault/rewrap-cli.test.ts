import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MasterKey } from "@nagent/config";
import { createVault } from "@nagent/vault";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { createConnection, createWorkspace, masterKeys, openConnection, type StoredConnection } from "./helpers";

const ROOT = resolve(import.meta.dirname, "../../..");
const keys = masterKeys("v1", "v2");
let db: TestDatabase;
const connections: StoredConnection[] = [];

function spec(...ring: MasterKey[]): string {
  return ring.map((k) => `${k.id}:${k.key.toString("base64")}`).join(",");
}

/** Runs `npm run vault:rewrap`'s script as an operator would, with the keyring in the environment. */
function rewrapCli(ring: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      resolve(ROOT, "node_modules/.bin/tsx"),
      ["packages/vault/src/rewrap-cli.ts", ...args],
      { cwd: ROOT, env: { ...process.env, NODE_ENV: "production", DATABASE_URL: db.url, NAGENT_MASTER_KEYS: ring }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  const vault = await createVault({ prisma: db.prisma, masterKeys: [keys["v1"]!] });
  for (let i = 0; i < 5; i++) {
    const ws = await createWorkspace(db.prisma);
    await vault.ensureWorkspaceKey(ws);
    connections.push(await createConnection(db.prisma, vault, ws));
  }
  vault.close();
});

afterAll(async () => {
  await db?.drop();
});

describe("npm run vault:rewrap", () => {
  it("rewraps in batches, prints counts and no key material, then has nothing left to do", async () => {
    const ring = spec(keys["v1"]!, keys["v2"]!);
    const first = await rewrapCli(ring, "--batch-size=2");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('to master key "v2" in batches of 2');
    expect(first.stdout).toContain("scanned 2, rewrapped 2");
    expect(first.stdout).toContain("5 rewrapped, 0 skipped (changed meanwhile), 0 failed, 0 remaining");
    for (const k of Object.values(keys)) expect(first.stdout).not.toContain(k.key.toString("base64"));

    const second = await rewrapCli(ring);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("0 rewrapped, 0 skipped (changed meanwhile), 0 failed, 0 remaining");

    const v2only = await createVault({ prisma: db.prisma, masterKeys: [keys["v2"]!] });
    try {
      for (const c of connections) expect(await openConnection(db.prisma, v2only, c)).toBe(c.secret);
    } finally {
      v2only.close();
    }
  }, 120_000); // child processes: each tsx start takes 10–30 s on a loaded machine

  it("exits 1 with a clear message when the keyring lacks a master key still in use, or is malformed", async () => {
    const missing = await rewrapCli(spec(keys["v1"]!));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/master key "v2", which NAGENT_MASTER_KEYS does not hold/);
    expect(missing.stderr).not.toContain(keys["v1"]!.key.toString("base64"));

    const malformed = await rewrapCli("v1:c2hvcnQ=");
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('NAGENT_MASTER_KEYS: key "v1" must be 32 bytes, got 5');

    const badBatch = await rewrapCli(spec(keys["v2"]!), "--batch-size=0");
    expect(badBatch.code).toBe(1);
    expect(badBatch.stderr).toContain("--batch-size must be an integer");
  }, 120_000); // child processes: each tsx start takes 10–30 s on a loaded machine
});
