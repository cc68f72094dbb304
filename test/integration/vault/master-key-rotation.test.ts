import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVault, type RewrapProgress, type Vault } from "@nagent/vault";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { createConnection, createWorkspace, masterKeys, openConnection, vaultError, type StoredConnection } from "./helpers";

const keys = masterKeys("v1", "v2");
const v1 = keys["v1"]!;
const v2 = keys["v2"]!;
let db: TestDatabase;
const vaults: Vault[] = [];
const connections: StoredConnection[] = [];
const WORKSPACES = 23;

async function vaultWith(...ring: (typeof v1)[]): Promise<Vault> {
  const v = await createVault({ prisma: db.prisma, masterKeys: ring, cache: { ttlMs: 0 } });
  vaults.push(v);
  return v;
}

async function openAll(v: Vault): Promise<void> {
  for (const c of connections) expect(await openConnection(db.prisma, v, c)).toBe(c.secret);
}

async function countByMaster(): Promise<Record<string, number>> {
  const rows = await db.prisma.workspaceKey.groupBy({ by: ["masterKeyId"], _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.masterKeyId, r._count._all]));
}

beforeAll(async () => {
  db = await createTestDatabase();
  const old = await vaultWith(v1);
  for (let i = 0; i < WORKSPACES; i++) {
    const ws = await createWorkspace(db.prisma, `ws${i}`);
    await old.ensureWorkspaceKey(ws);
    connections.push(await createConnection(db.prisma, old, ws));
  }
});

afterAll(async () => {
  for (const v of vaults) v.close();
  await db?.drop();
});

// The steps depend on each other, in the order an operator runs them.
describe("master-key rotation v1 → v2", () => {
  it("refuses to boot with a keyring lacking a master key still in use, naming it", async () => {
    const error = await vaultError(vaultWith(v2));
    expect(error.code).toBe("UNKNOWN_MASTER_KEY");
    expect(error.message).toContain('"v1"');
    expect(error.message).toContain("vault:rewrap");
    expect(error.message).not.toContain(v1.key.toString("base64"));
  });

  it("resumes after an interruption, with secrets opening in the half-rewrapped state", async () => {
    const both = await vaultWith(v1, v2);
    expect(both.activeMasterKeyId).toBe("v2");
    // Stop the run after its first batch, as a crash would.
    const interrupted = both.rewrapAll({
      batchSize: 5,
      onProgress: () => {
        throw new Error("interrupted");
      },
    });
    await expect(interrupted).rejects.toThrow("interrupted");
    expect(await countByMaster()).toEqual({ v1: WORKSPACES - 5, v2: 5 });
    await openAll(both);
    const rewrapped = await db.prisma.workspaceKey.findMany({ where: { masterKeyId: "v2" } });
    expect(rewrapped.every((r) => r.rotatedAt instanceof Date)).toBe(true);
  });

  it("rewraps the rest while two runs race and opens keep working throughout", async () => {
    const runner = await vaultWith(v1, v2);
    const reader = await vaultWith(v1, v2);
    const progress: RewrapProgress[] = [];
    // A reader opening every secret in a loop while the runs go (at least one full pass, whatever the timing; the
    // test above checks the half-rewrapped state deterministically).
    let running = true;
    let opens = 0;
    const opening = (async () => {
      do {
        for (const c of connections) {
          expect(await openConnection(db.prisma, reader, c)).toBe(c.secret);
          opens += 1;
        }
      } while (running);
    })();
    const [a, b] = await Promise.all([
      runner.rewrapAll({ batchSize: 4, onProgress: (p) => progress.push(p) }),
      runner.rewrapAll({ batchSize: 3 }),
    ]).finally(() => {
      running = false;
    });
    await opening;

    expect(a.rewrapped + b.rewrapped).toBe(WORKSPACES - 5);
    expect(a.failed + b.failed).toBe(0);
    expect(a.remaining).toBe(0);
    expect(b.remaining).toBe(0);
    expect(progress.length).toBeGreaterThan(0);
    expect(opens).toBeGreaterThanOrEqual(WORKSPACES);
    expect(await countByMaster()).toEqual({ v2: WORKSPACES });
  });

  it("is a no-op when run again", async () => {
    const again = await (await vaultWith(v1, v2)).rewrapAll();
    expect(again).toMatchObject({ scanned: 0, rewrapped: 0, skipped: 0, failed: 0, remaining: 0, activeMasterKeyId: "v2" });
  });

  it("then a keyring with only v2 opens everything, and one with only v1 fails at boot naming v2", async () => {
    await openAll(await vaultWith(v2));
    const error = await vaultError(vaultWith(v1));
    expect(error.code).toBe("UNKNOWN_MASTER_KEY");
    expect(error.message).toContain('"v2"');
  });

  it("new data keys are wrapped by the active key", async () => {
    const v = await vaultWith(v2);
    const ws = await createWorkspace(db.prisma);
    await v.ensureWorkspaceKey(ws);
    const row = await db.prisma.workspaceKey.findFirstOrThrow({ where: { workspaceId: ws } });
    expect(row.masterKeyId).toBe("v2");
  });
});
