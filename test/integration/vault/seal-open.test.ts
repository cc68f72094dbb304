import { describe, expect, it } from "vitest";
import { uuidv7 } from "@nagent/db";
import { CONNECTION_CREDENTIALS, createVault } from "@nagent/vault";
import { createConnection, createWorkspace, failureCode, masterKeys, openConnection, readCiphertext, vaultError, useTwoVaults } from "./helpers";

const f = useTwoVaults();


describe("seal and open", () => {
  it("round-trips a secret, warm and f.cold, and stores no plaintext", async () => {
    const ws = await createWorkspace(f.db.prisma);
    expect(await f.vault.ensureWorkspaceKey(ws)).toEqual({ version: 1, created: true });
    const c = await createConnection(f.db.prisma, f.vault, ws);
    expect(await openConnection(f.db.prisma, f.vault, c)).toBe(c.secret);
    expect(await openConnection(f.db.prisma, f.cold, c)).toBe(c.secret);
    const stored = Buffer.from(await readCiphertext(f.db.prisma, c));
    expect(stored.includes(Buffer.from(c.secret))).toBe(false);
    expect(stored[0]).toBe(1); // format version
    expect(stored.readUInt32BE(1)).toBe(1); // data key version
    const keyRow = await f.db.prisma.workspaceKey.findFirstOrThrow({ where: { workspaceId: ws } });
    expect(keyRow.masterKeyId).toBe("v1");
    expect(Buffer.from(keyRow.wrappedKey).includes(f.keys["v1"]!.key)).toBe(false);
  });

  it("accepts bytes and upper-case UUIDs (bound in canonical form)", async () => {
    const ws = await createWorkspace(f.db.prisma);
    await f.vault.ensureWorkspaceKey(ws);
    const connectionId = uuidv7();
    const envelope = await f.vault.seal(ws.toUpperCase(), new Uint8Array([0, 1, 2, 255]), { connectionId: connectionId.toUpperCase(), purpose: "test.bytes" });
    const plain = await f.cold.open(ws, envelope, { connectionId, purpose: "test.bytes" });
    expect([...plain]).toEqual([0, 1, 2, 255]);
  });

  it("fails to open tampered, truncated or misbound envelopes, each with a clear code", async () => {
    const ws = await createWorkspace(f.db.prisma);
    const other = await createWorkspace(f.db.prisma);
    await f.vault.ensureWorkspaceKey(ws);
    await f.vault.ensureWorkspaceKey(other);
    const c = await createConnection(f.db.prisma, f.vault, ws);
    const envelope = Buffer.from(await readCiphertext(f.db.prisma, c));
    const ctx = { connectionId: c.id, purpose: CONNECTION_CREDENTIALS };

    for (const v of [f.vault, f.cold]) {
      for (const offset of [10, 40, envelope.length - 1]) {
        const tampered = Buffer.from(envelope);
        tampered[offset]! ^= 0x80;
        expect(await failureCode(v.open(ws, tampered, ctx))).toBe("DECRYPT_FAILED");
      }
      expect(await failureCode(v.open(other, envelope, ctx))).toBe("DECRYPT_FAILED");
      expect(await failureCode(v.open(ws, envelope, { ...ctx, connectionId: uuidv7() }))).toBe("DECRYPT_FAILED");
      expect(await failureCode(v.open(ws, envelope, { ...ctx, purpose: "webhook.signing_secret" }))).toBe("DECRYPT_FAILED");
      expect(await failureCode(v.open(ws, envelope.subarray(0, 44), ctx))).toBe("MALFORMED_ENVELOPE");
      expect(await failureCode(v.open(ws, envelope.subarray(0, envelope.length - 1), ctx))).toBe("DECRYPT_FAILED");
      expect(await failureCode(v.open(ws, Buffer.from("not an envelope at all, just some bytes here!"), ctx))).toBe("MALFORMED_ENVELOPE");
    }
  });

  it("refuses a connection's ciphertext moved into another connection's row, with a clear error", async () => {
    const ws = await createWorkspace(f.db.prisma);
    await f.vault.ensureWorkspaceKey(ws);
    const a = await createConnection(f.db.prisma, f.vault, ws);
    const b = await createConnection(f.db.prisma, f.vault, ws);
    await f.db.prisma.connection.update({ where: { id: b.id }, data: { ciphertext: await readCiphertext(f.db.prisma, a) } });

    const error = await vaultError(openConnection(f.db.prisma, f.vault, b));
    expect(error.code).toBe("DECRYPT_FAILED");
    expect(error.message).toMatch(/another workspace, connection or purpose/);
    expect(error.message).not.toContain(a.secret);
    expect(await openConnection(f.db.prisma, f.vault, a)).toBe(a.secret);
  });

  it("refuses a data key row copied to another workspace", async () => {
    const ws = await createWorkspace(f.db.prisma);
    const thief = await createWorkspace(f.db.prisma);
    await f.vault.ensureWorkspaceKey(ws);
    const c = await createConnection(f.db.prisma, f.vault, ws);
    const row = await f.db.prisma.workspaceKey.findFirstOrThrow({ where: { workspaceId: ws } });
    await f.db.prisma.workspaceKey.create({ data: { id: uuidv7(), workspaceId: thief, version: 1, wrappedKey: row.wrappedKey, masterKeyId: "v1" } });
    // Even with the ciphertext's binding forged to the thief workspace, its copy of the wrapped key does not unwrap.
    expect(await failureCode(f.cold.open(thief, await readCiphertext(f.db.prisma, c), { connectionId: c.id, purpose: CONNECTION_CREDENTIALS }))).toBe("KEY_UNWRAP_FAILED");
  });

  it("reports a wrong master key under a known id as KEY_UNWRAP_FAILED, naming only the id", async () => {
    const ws = await createWorkspace(f.db.prisma);
    await f.vault.ensureWorkspaceKey(ws);
    const c = await createConnection(f.db.prisma, f.vault, ws);
    const impostor = masterKeys("v1")["v1"]!;
    const wrong = await createVault({ prisma: f.db.prisma, masterKeys: [impostor] });
    try {
      const error = await vaultError(openConnection(f.db.prisma, wrong, c));
      expect(error.code).toBe("KEY_UNWRAP_FAILED");
      expect(error.message).toContain('"v1"');
      expect(error.message).not.toContain(impostor.key.toString("base64"));
    } finally {
      wrong.close();
    }
  });

  it("refuses to seal for a workspace without a data key, and bad ids or purposes", async () => {
    const ws = await createWorkspace(f.db.prisma);
    const ctx = { connectionId: uuidv7(), purpose: CONNECTION_CREDENTIALS };
    expect(await failureCode(f.vault.seal(ws, "live_x", ctx))).toBe("KEY_NOT_FOUND");
    expect(await failureCode(f.vault.seal("not-a-uuid", "live_x", ctx))).toBe("INVALID_CONTEXT");
    await f.vault.ensureWorkspaceKey(ws);
    expect(await failureCode(f.vault.seal(ws, "live_x", { ...ctx, connectionId: "" }))).toBe("INVALID_CONTEXT");
    expect(await failureCode(f.vault.seal(ws, "live_x", { ...ctx, purpose: "Has Spaces" }))).toBe("INVALID_CONTEXT");
    expect(await failureCode(f.vault.seal(ws, "x".repeat(64 * 1024 + 1), ctx))).toBe("PLAINTEXT_TOO_LARGE");
  });
});

describe("ensureWorkspaceKey", () => {
  it("creates exactly one key under concurrent calls from several vaults", async () => {
    const ws = await createWorkspace(f.db.prisma);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? f.vault : f.cold).ensureWorkspaceKey(ws)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.every((r) => r.version === 1)).toBe(true);
    expect(await f.db.prisma.workspaceKey.count({ where: { workspaceId: ws } })).toBe(1);
    const c = await createConnection(f.db.prisma, f.cold, ws);
    expect(await openConnection(f.db.prisma, f.vault, c)).toBe(c.secret);
  });

  it("refuses a workspace that does not exist or is deleted", async () => {
    expect(await failureCode(f.vault.ensureWorkspaceKey(uuidv7()))).toBe("WORKSPACE_NOT_FOUND");
    const ws = await createWorkspace(f.db.prisma);
    await f.db.prisma.workspace.update({ where: { id: ws }, data: { deletedAt: new Date() } });
    expect(await failureCode(f.vault.ensureWorkspaceKey(ws))).toBe("WORKSPACE_NOT_FOUND");
    expect(await f.db.prisma.workspaceKey.count({ where: { workspaceId: ws } })).toBe(0);
  });
});

describe("close", () => {
  it("makes later calls fail with VAULT_CLOSED and leaves the caller's key buffers intact", async () => {
    const own = masterKeys("k1")["k1"]!;
    const before = Buffer.from(own.key);
    const v = await createVault({ prisma: f.db.prisma, masterKeys: [f.keys["v1"]!, own] });
    v.close();
    expect(own.key.equals(before)).toBe(true);
    expect(await failureCode(v.ensureWorkspaceKey(uuidv7()))).toBe("VAULT_CLOSED");
  });
});
