import { describe, expect, it } from "vitest";
import { CONNECTION_CREDENTIALS } from "@nagent/vault";
import { createConnection, createWorkspace, failureCode, openConnection, readCiphertext, vaultError, useTwoVaults } from "./helpers";

/** `f.cold`: another process's vault, without a cache: it reads the key rows every time (`f.vault` caches, and must forget). */
const f = useTwoVaults();


describe("crypto-shredding", () => {
  it("destroys the workspace's data keys so its ciphertexts never open again", async () => {
    const ws = await createWorkspace(f.db.prisma);
    const keep = await createWorkspace(f.db.prisma);
    await f.vault.ensureWorkspaceKey(ws);
    await f.vault.ensureWorkspaceKey(keep);
    const c = await createConnection(f.db.prisma, f.vault, ws);
    const kept = await createConnection(f.db.prisma, f.vault, keep);
    await f.vault.rotateWorkspaceKey(ws);
    await f.vault.rotateWorkspaceKey(ws);
    expect(await openConnection(f.db.prisma, f.vault, c)).toBe(c.secret); // now cached in `vault`
    const ciphertext = await readCiphertext(f.db.prisma, c);

    // The workspace is deleted as the API will: soft-delete the row, then shred.
    await f.db.prisma.workspace.update({ where: { id: ws }, data: { deletedAt: new Date() } });
    expect(await f.vault.destroyWorkspaceKeys(ws)).toEqual({ destroyed: 1 });
    expect(await f.db.prisma.workspaceKey.count({ where: { workspaceId: ws } })).toBe(0);

    const ctx = { connectionId: c.id, purpose: CONNECTION_CREDENTIALS };
    for (const v of [f.vault, f.cold]) {
      const error = await vaultError(v.open(ws, ciphertext, ctx));
      expect(error.code).toBe("KEY_DESTROYED");
      expect(error.message).toMatch(/destroyed/);
    }
    // A deleted workspace cannot get a key again, so nothing could ever be sealed or opened under it.
    expect(await failureCode(f.vault.ensureWorkspaceKey(ws))).toBe("WORKSPACE_NOT_FOUND");
    expect(await failureCode(f.vault.seal(ws, "live_x", ctx))).toBe("KEY_NOT_FOUND");
    expect(await failureCode(f.vault.open(ws, ciphertext, ctx))).toBe("KEY_DESTROYED");
    // Other workspaces are untouched.
    expect(await openConnection(f.db.prisma, f.cold, kept)).toBe(kept.secret);
    // Running it again is harmless.
    expect(await f.vault.destroyWorkspaceKeys(ws)).toEqual({ destroyed: 0 });
  });

  it("a hard-deleted workspace takes its keys with it (ON DELETE CASCADE)", async () => {
    const ws = await createWorkspace(f.db.prisma);
    await f.vault.ensureWorkspaceKey(ws);
    const c = await createConnection(f.db.prisma, f.vault, ws);
    const ciphertext = await readCiphertext(f.db.prisma, c);
    await f.db.prisma.workspace.delete({ where: { id: ws } });
    expect(await failureCode(f.cold.open(ws, ciphertext, { connectionId: c.id, purpose: CONNECTION_CREDENTIALS }))).toBe("KEY_DESTROYED");
  });
});
