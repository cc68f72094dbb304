import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTION_CREDENTIALS, createVault, type Vault } from "@nagent/vault";
import { createTestDatabase, type TestDatabase } from "../../support/database";
import { createConnection, createWorkspace, failureCode, masterKeys, openConnection, readCiphertext, vaultError } from "./helpers";

const keys = masterKeys("v1");
let db: TestDatabase;
let vault: Vault;
/** Another process's vault, without a cache: it reads the key rows every time. (`vault` caches, and must forget.) */
let other: Vault;

beforeAll(async () => {
  db = await createTestDatabase();
  vault = await createVault({ prisma: db.prisma, masterKeys: [keys["v1"]!] });
  other = await createVault({ prisma: db.prisma, masterKeys: [keys["v1"]!], cache: { ttlMs: 0 } });
});

afterAll(async () => {
  vault?.close();
  other?.close();
  await db?.drop();
});

describe("crypto-shredding", () => {
  it("destroys the workspace's data keys so its ciphertexts never open again", async () => {
    const ws = await createWorkspace(db.prisma);
    const keep = await createWorkspace(db.prisma);
    await vault.ensureWorkspaceKey(ws);
    await vault.ensureWorkspaceKey(keep);
    const c = await createConnection(db.prisma, vault, ws);
    const kept = await createConnection(db.prisma, vault, keep);
    await vault.rotateWorkspaceKey(ws);
    await vault.rotateWorkspaceKey(ws);
    expect(await openConnection(db.prisma, vault, c)).toBe(c.secret); // now cached in `vault`
    const ciphertext = await readCiphertext(db.prisma, c);

    // The workspace is deleted as the API will: soft-delete the row, then shred.
    await db.prisma.workspace.update({ where: { id: ws }, data: { deletedAt: new Date() } });
    expect(await vault.destroyWorkspaceKeys(ws)).toEqual({ destroyed: 1 });
    expect(await db.prisma.workspaceKey.count({ where: { workspaceId: ws } })).toBe(0);

    const ctx = { connectionId: c.id, purpose: CONNECTION_CREDENTIALS };
    for (const v of [vault, other]) {
      const error = await vaultError(v.open(ws, ciphertext, ctx));
      expect(error.code).toBe("KEY_DESTROYED");
      expect(error.message).toMatch(/destroyed/);
    }
    // A deleted workspace cannot get a key again, so nothing could ever be sealed or opened under it.
    expect(await failureCode(vault.ensureWorkspaceKey(ws))).toBe("WORKSPACE_NOT_FOUND");
    expect(await failureCode(vault.seal(ws, "live_x", ctx))).toBe("KEY_NOT_FOUND");
    expect(await failureCode(vault.open(ws, ciphertext, ctx))).toBe("KEY_DESTROYED");
    // Other workspaces are untouched.
    expect(await openConnection(db.prisma, other, kept)).toBe(kept.secret);
    // Running it again is harmless.
    expect(await vault.destroyWorkspaceKeys(ws)).toEqual({ destroyed: 0 });
  });

  it("a hard-deleted workspace takes its keys with it (ON DELETE CASCADE)", async () => {
    const ws = await createWorkspace(db.prisma);
    await vault.ensureWorkspaceKey(ws);
    const c = await createConnection(db.prisma, vault, ws);
    const ciphertext = await readCiphertext(db.prisma, c);
    await db.prisma.workspace.delete({ where: { id: ws } });
    expect(await failureCode(other.open(ws, ciphertext, { connectionId: c.id, purpose: CONNECTION_CREDENTIALS }))).toBe("KEY_DESTROYED");
  });
});
