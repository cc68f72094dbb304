import pg from "pg";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "@nagent/db";
import { CONNECTION_CREDENTIALS, envelopeKeyVersion, internalsForTests, RUN_SENSITIVE_INPUT, TRIGGER_SIGNING_SECRET, type SealedKind, type Vault } from "@nagent/vault";
import { createConnection, createWorkspace, failureCode, openConnection, readCiphertext, type StoredConnection, useTwoVaults } from "./helpers";

const f = useTwoVaults();


async function workspaceWithConnections(n: number): Promise<{ ws: string; connections: StoredConnection[] }> {
  const ws = await createWorkspace(f.db.prisma);
  await f.vault.ensureWorkspaceKey(ws);
  const connections: StoredConnection[] = [];
  for (let i = 0; i < n; i++) connections.push(await createConnection(f.db.prisma, f.vault, ws));
  return { ws, connections };
}

function byKind(counts: Partial<Record<SealedKind, number>>): Record<SealedKind, number> {
  return { connection: 0, subscription_secret: 0, subscription_previous_secret: 0, run_input: 0, ...counts };
}

function unreadableByKind(ids: Partial<Record<SealedKind, string[]>> = {}): Record<SealedKind, string[]> {
  return { connection: [], subscription_secret: [], subscription_previous_secret: [], run_input: [], ...ids };
}

async function versions(ws: string): Promise<number[]> {
  const rows = await f.db.prisma.workspaceKey.findMany({ where: { workspaceId: ws }, orderBy: { version: "asc" } });
  return rows.map((r) => r.version);
}

describe("data-key rotation", () => {
  it("re-encrypts every connection under version 2 and deletes version 1; secrets still open", async () => {
    const { ws, connections } = await workspaceWithConnections(6);
    const { connections: bystanders } = await workspaceWithConnections(1);
    const before = await Promise.all(connections.map((c) => readCiphertext(f.db.prisma, c)));

    const result = await f.vault.rotateWorkspaceKey(ws);
    expect(result).toEqual({ version: 2, reencrypted: 6, reencryptedByKind: byKind({ connection: 6 }), unreadable: [], unreadableByKind: unreadableByKind(), retired: [1] });
    expect(await versions(ws)).toEqual([2]);
    for (const [i, c] of connections.entries()) {
      const now = await readCiphertext(f.db.prisma, c);
      expect(envelopeKeyVersion(now)).toBe(2);
      expect(Buffer.from(now).equals(before[i]!)).toBe(false);
      expect(await openConnection(f.db.prisma, f.vault, c)).toBe(c.secret);
      expect(await openConnection(f.db.prisma, f.cold, c)).toBe(c.secret);
    }
    // Another workspace is untouched.
    expect(envelopeKeyVersion(await readCiphertext(f.db.prisma, bystanders[0]!))).toBe(1);
    // New seals use the new version; a stale envelope of version 1 fails clearly.
    const fresh = await createConnection(f.db.prisma, f.vault, ws);
    expect(envelopeKeyVersion(await readCiphertext(f.db.prisma, fresh))).toBe(2);
    expect(await failureCode(f.cold.open(ws, before[0]!, { connectionId: connections[0]!.id, purpose: CONNECTION_CREDENTIALS }))).toBe("KEY_VERSION_RETIRED");
  });

  it("keeps runs opening secrets working while it rotates", async () => {
    const { ws, connections } = await workspaceWithConnections(8);
    let running = true;
    let opens = 0;
    const reading = (async () => {
      do {
        for (const c of connections) {
          // openLatest re-reads the row when a rotation retired the version between the read and the open.
          expect(await openConnection(f.db.prisma, f.cold, c)).toBe(c.secret);
          opens += 1;
        }
      } while (running);
    })();
    try {
      expect((await f.vault.rotateWorkspaceKey(ws)).version).toBe(2);
      expect((await f.vault.rotateWorkspaceKey(ws)).version).toBe(3);
    } finally {
      running = false;
    }
    await reading;
    expect(opens).toBeGreaterThanOrEqual(connections.length);
    expect(await versions(ws)).toEqual([3]);
  });

  it("opens a stale envelope of a retired version through openLatest by reading again", async () => {
    const { ws, connections } = await workspaceWithConnections(1);
    const c = connections[0]!;
    const stale = await readCiphertext(f.db.prisma, c);
    await f.vault.rotateWorkspaceKey(ws);
    let rereads = 0;
    const plain = await f.cold.openLatest(ws, { connectionId: c.id, purpose: CONNECTION_CREDENTIALS }, stale, async () => {
      rereads += 1;
      return readCiphertext(f.db.prisma, c);
    });
    expect(plain.toString()).toBe(c.secret);
    expect(rereads).toBe(1);
  });

  it("resumes a rotation that stopped half way, with both versions opening meanwhile", async () => {
    const { ws, connections } = await workspaceWithConnections(4);
    // Stage what a crash after creating version 2 and before the re-encryption commits leaves behind (with the
    // vault's internals: its surface never leaves this state).
    const { createKeyring, newDataKey, wrapDataKey } = internalsForTests;
    const keyring = createKeyring([f.keys["v1"]!]);
    await f.db.prisma.workspaceKey.create({
      data: { id: uuidv7(), workspaceId: ws, version: 2, wrappedKey: wrapDataKey(newDataKey(), ws, 2, keyring.active), masterKeyId: "v1" },
    });
    keyring.wipe();
    for (const c of connections) expect(await openConnection(f.db.prisma, f.cold, c)).toBe(c.secret);
    // Seals made meanwhile already use version 2.
    const meanwhile = await createConnection(f.db.prisma, f.cold, ws);
    expect(envelopeKeyVersion(await readCiphertext(f.db.prisma, meanwhile))).toBe(2);

    const result = await f.vault.rotateWorkspaceKey(ws);
    expect(result).toEqual({ version: 2, reencrypted: 4, reencryptedByKind: byKind({ connection: 4 }), unreadable: [], unreadableByKind: unreadableByKind(), retired: [1] });
    expect(await versions(ws)).toEqual([2]);
    for (const c of [...connections, meanwhile]) expect(await openConnection(f.db.prisma, f.cold, c)).toBe(c.secret);
  });

  it("leaves unreadable ciphertexts as they are and reports them by id", async () => {
    const { ws, connections } = await workspaceWithConnections(3);
    const [a, b, c] = connections as [StoredConnection, StoredConnection, StoredConnection];
    // b holds a's ciphertext (moved rows); c holds garbage.
    await f.db.prisma.connection.update({ where: { id: b.id }, data: { ciphertext: await readCiphertext(f.db.prisma, a) } });
    await f.db.prisma.connection.update({ where: { id: c.id }, data: { ciphertext: new Uint8Array([9, 9, 9]) } });

    const result = await f.vault.rotateWorkspaceKey(ws);
    expect(result.version).toBe(2);
    expect(result.reencrypted).toBe(1);
    expect([...result.unreadable].sort()).toEqual([b.id, c.id].sort());
    expect([...result.unreadableByKind.connection].sort()).toEqual([b.id, c.id].sort());
    expect(await openConnection(f.db.prisma, f.cold, a)).toBe(a.secret);
    expect(await failureCode(openConnection(f.db.prisma, f.cold, b))).toBe("KEY_VERSION_RETIRED");
    expect(await failureCode(openConnection(f.db.prisma, f.cold, c))).toBe("MALFORMED_ENVELOPE");
  });

  it("never strands a secret whose insert is guarded on its key version (the README's airtight writer)", async () => {
    const { ws, connections } = await workspaceWithConnections(2);
    const guardedInsert = async (client: pg.Client, id: string, ciphertext: Buffer): Promise<number> => {
      const result = await client.query(
        `INSERT INTO "connection" ("id", "workspace_id", "integration", "name", "status", "ciphertext", "credential_hint")
         SELECT $1, $2, 'scale_ai', $3, 'active', $4, '…'
         WHERE EXISTS (SELECT 1 FROM "workspace_key" WHERE "workspace_id" = $2 AND "version" = $5 FOR KEY SHARE)`,
        [id, ws, `guarded-${id}`, ciphertext, envelopeKeyVersion(ciphertext)],
      );
      return result.rowCount ?? 0;
    };
    // Sealed with version 1 before the rotation; inserted in a transaction that commits only once the rotation is
    // blocked on deleting version 1.
    const late = { id: uuidv7(), workspaceId: ws, secret: "live_sealed_before_the_rotation_0123456789" };
    const lateEnvelope = await f.vault.seal(ws, late.secret, { connectionId: late.id, purpose: CONNECTION_CREDENTIALS });
    const writer = new pg.Client({ connectionString: f.db.url });
    await writer.connect();
    try {
      await writer.query("BEGIN");
      expect(await guardedInsert(writer, late.id, lateEnvelope)).toBe(1);
      const rotation = f.vault.rotateWorkspaceKey(ws);
      let settled = false;
      rotation.then(
        () => (settled = true),
        () => (settled = true),
      );
      // Wait (by polling PostgreSQL, not by a timer) until the rotation waits on the writer's lock.
      for (let waiting = false; !waiting && !settled; ) {
        const { rows } = await f.db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'DELETE%workspace_key%'`);
        waiting = rows.length > 0;
        if (!waiting) await new Promise((r) => setImmediate(r));
      }
      await writer.query("COMMIT");
      const result = await rotation;
      expect(result).toMatchObject({ version: 2, reencrypted: 3, retired: [1] });
      for (const c of [...connections, late]) expect(await openConnection(f.db.prisma, f.cold, c)).toBe(c.secret);

      // After the rotation, a guarded insert of an envelope naming the deleted version inserts nothing.
      expect(envelopeKeyVersion(lateEnvelope)).toBe(1);
      expect(await guardedInsert(writer, uuidv7(), lateEnvelope)).toBe(0);
    } finally {
      await writer.end();
    }
  });

  it("refuses a workspace without a data key", async () => {
    const ws = await createWorkspace(f.db.prisma);
    expect(await failureCode(f.vault.rotateWorkspaceKey(ws))).toBe("KEY_NOT_FOUND");
  });

  it("two rotations at once end with one version and every secret readable", async () => {
    const { ws, connections } = await workspaceWithConnections(5);
    const results = await Promise.all([f.vault.rotateWorkspaceKey(ws), f.cold.rotateWorkspaceKey(ws)]);
    const [only] = await versions(ws);
    expect(await versions(ws)).toHaveLength(1);
    expect(results.every((r) => r.version <= only!)).toBe(true);
    for (const c of connections) expect(await openConnection(f.db.prisma, f.cold, c)).toBe(c.secret);
  });

  it("re-seals every sealed column: subscription secrets (current and previous) and live runs' sensitive input", async () => {
    const { ws, connections } = await workspaceWithConnections(1);
    const sub = await createSubscription(ws, { previous: true });
    const plain = await createSubscription(ws, { previous: false });
    const live = await createRun(ws, "queued", { file_url: "https://example.com/a.png?X-Amz-Signature=live" });
    const ended = await createRun(ws, "succeeded", null);
    const { ws: other } = await workspaceWithConnections(0);
    const bystander = await createRun(other, "queued", { file_url: "https://example.com/b.png" });

    const result = await f.vault.rotateWorkspaceKey(ws);
    expect(result).toEqual({
      version: 2, reencrypted: 5, reencryptedByKind: byKind({ connection: 1, subscription_secret: 2, subscription_previous_secret: 1, run_input: 1 }),
      unreadable: [], unreadableByKind: unreadableByKind(), retired: [1],
    });
    expect(await versions(ws)).toEqual([2]);
    expect(await openConnection(f.db.prisma, f.cold, connections[0]!)).toBe(connections[0]!.secret);
    for (const s of [sub, plain]) {
      const row = await f.db.prisma.triggerSubscription.findUniqueOrThrow({ where: { id: s.id } });
      expect(envelopeKeyVersion(row.secretCiphertext)).toBe(2);
      expect((await f.cold.open(ws, row.secretCiphertext, { connectionId: s.id, purpose: TRIGGER_SIGNING_SECRET })).toString()).toBe(s.secret);
      if (s.previous === null) expect(row.previousSecretCiphertext).toBeNull();
      else {
        expect(envelopeKeyVersion(row.previousSecretCiphertext!)).toBe(2);
        expect((await f.cold.open(ws, row.previousSecretCiphertext!, { connectionId: s.id, purpose: TRIGGER_SIGNING_SECRET })).toString()).toBe(s.previous);
      }
    }
    const liveRow = await f.db.prisma.run.findUniqueOrThrow({ where: { id: live.id } });
    expect(envelopeKeyVersion(liveRow.sealedInput!)).toBe(2);
    expect(JSON.parse((await f.cold.open(ws, liveRow.sealedInput!, { connectionId: live.id, purpose: RUN_SENSITIVE_INPUT })).toString())).toEqual(live.sealed);
    expect((await f.db.prisma.run.findUniqueOrThrow({ where: { id: ended.id } })).sealedInput).toBeNull();
    // Another workspace's run is untouched.
    expect(envelopeKeyVersion((await f.db.prisma.run.findUniqueOrThrow({ where: { id: bystander.id } })).sealedInput!)).toBe(1);
    // A second rotation re-seals the same values again, nothing more.
    expect((await f.vault.rotateWorkspaceKey(ws)).reencryptedByKind).toEqual(byKind({ connection: 1, subscription_secret: 2, subscription_previous_secret: 1, run_input: 1 }));
  });

  it("reports unreadable subscription secrets and run inputs by kind and leaves them as they are", async () => {
    const { ws } = await workspaceWithConnections(0);
    const a = await createSubscription(ws, { previous: false });
    const b = await createSubscription(ws, { previous: false });
    const run = await createRun(ws, "queued", { file_url: "https://example.com/c.png" });
    // b holds a's secret (bound to a's id); the run's input is garbage.
    const aRow = await f.db.prisma.triggerSubscription.findUniqueOrThrow({ where: { id: a.id } });
    await f.db.prisma.triggerSubscription.update({ where: { id: b.id }, data: { secretCiphertext: aRow.secretCiphertext } });
    await f.db.prisma.run.update({ where: { id: run.id }, data: { sealedInput: new Uint8Array([1, 2]) } });
    const result = await f.vault.rotateWorkspaceKey(ws);
    expect(result).toMatchObject({ version: 2, reencrypted: 1, retired: [1], reencryptedByKind: byKind({ subscription_secret: 1 }) });
    expect(result.unreadableByKind).toEqual(unreadableByKind({ subscription_secret: [b.id], run_input: [run.id] }));
    expect([...result.unreadable].sort()).toEqual([b.id, run.id].sort());
    expect(Buffer.from((await f.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).sealedInput!)).toEqual(Buffer.from([1, 2]));
  });

  it("retries when a run or a subscription sealed with the old version is written during the rotation (never stranded)", async () => {
    const { ws } = await workspaceWithConnections(1);
    await createRun(ws, "queued", { file_url: "https://example.com/d.png" });
    // Sealed with version 1 before the rotation; inserted (guarded on the key row, as the README advises) in a
    // transaction that commits only once the rotation is blocked on deleting version 1: its straggler check then
    // finds them and it starts over.
    const lateRun = { id: uuidv7(), sealed: { file_url: "https://example.com/late.png?X-Amz-Signature=late" } };
    const lateRunEnvelope = await f.vault.seal(ws, JSON.stringify(lateRun.sealed), { connectionId: lateRun.id, purpose: RUN_SENSITIVE_INPUT });
    const lateSub = { id: uuidv7(), secret: `whsec_${uuidv7()}` };
    const lateSubEnvelope = await f.vault.seal(ws, lateSub.secret, { connectionId: lateSub.id, purpose: TRIGGER_SIGNING_SECRET });
    const writer = new pg.Client({ connectionString: f.db.url });
    await writer.connect();
    try {
      await writer.query("BEGIN");
      const guard = `WHERE EXISTS (SELECT 1 FROM "workspace_key" WHERE "workspace_id" = $2 AND "version" = 1 FOR KEY SHARE)`;
      expect((await writer.query(
        `INSERT INTO "run" ("id", "workspace_id", "integration", "action", "schema_version", "status", "input", "sealed_input")
         SELECT $1, $2, 'scale_ai', 'SCALE_AI_IMPORT_FILE', 1, 'queued', '{"file_url":"[redacted]"}'::jsonb, $3 ${guard}`,
        [lateRun.id, ws, lateRunEnvelope],
      )).rowCount).toBe(1);
      expect((await writer.query(
        `INSERT INTO "trigger_subscription" ("id", "workspace_id", "trigger", "target_url", "secret_ciphertext", "secret_hint")
         SELECT $1, $2, 'SCALE_AI_TASK_COMPLETED', 'https://example.com/hook', $3, 'whsec_…' ${guard}`,
        [lateSub.id, ws, lateSubEnvelope],
      )).rowCount).toBe(1);
      const rotation = f.vault.rotateWorkspaceKey(ws);
      let settled = false;
      rotation.then(() => (settled = true), () => (settled = true));
      for (let waiting = false; !waiting && !settled; ) {
        const { rows } = await f.db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'DELETE%workspace_key%'`);
        waiting = rows.length > 0;
        if (!waiting) await new Promise((r) => setImmediate(r));
      }
      expect(settled).toBe(false);
      await writer.query("COMMIT");
      const result = await rotation;
      // The first attempt's writes rolled back; the second re-sealed all of them, the late rows included.
      expect(result).toMatchObject({ version: 2, retired: [1], reencryptedByKind: byKind({ connection: 1, subscription_secret: 1, run_input: 2 }), unreadable: [] });
      expect(await versions(ws)).toEqual([2]);
      const runRow = await f.db.prisma.run.findUniqueOrThrow({ where: { id: lateRun.id } });
      expect(envelopeKeyVersion(runRow.sealedInput!)).toBe(2);
      expect(JSON.parse((await f.cold.open(ws, runRow.sealedInput!, { connectionId: lateRun.id, purpose: RUN_SENSITIVE_INPUT })).toString())).toEqual(lateRun.sealed);
      const subRow = await f.db.prisma.triggerSubscription.findUniqueOrThrow({ where: { id: lateSub.id } });
      expect((await f.cold.open(ws, subRow.secretCiphertext, { connectionId: lateSub.id, purpose: TRIGGER_SIGNING_SECRET })).toString()).toBe(lateSub.secret);
    } finally {
      await writer.end();
    }
  });

  it("gives up with ROTATION_CONFLICT when sealed runs keep changing, and a later call resumes", async () => {
    const { ws } = await workspaceWithConnections(0);
    const run = await createRun(ws, "queued", { file_url: "https://example.com/e.png" });
    const old = (await f.db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).sealedInput!;
    // Every attempt's straggler check finds a run sealed with version 1 that appeared after its read: a trigger
    // re-inserts one whenever the key row of version 1 is deleted (in the rotation's own transaction).
    await f.db.pool.query(`
      CREATE FUNCTION straggler_${ws.replaceAll("-", "")}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO "run" ("id", "workspace_id", "integration", "action", "schema_version", "status", "input", "sealed_input")
        VALUES (gen_random_uuid(), OLD.workspace_id, 'scale_ai', 'SCALE_AI_IMPORT_FILE', 1, 'queued', '{}'::jsonb, '\\x${Buffer.from(old).toString("hex")}'::bytea);
        RETURN OLD;
      END $$;
      CREATE TRIGGER straggler_${ws.replaceAll("-", "")} AFTER DELETE ON "workspace_key" FOR EACH ROW WHEN (OLD.workspace_id = '${ws}'::uuid AND OLD.version = 1)
        EXECUTE FUNCTION straggler_${ws.replaceAll("-", "")}();`);
    try {
      expect(await failureCode(f.vault.rotateWorkspaceKey(ws))).toBe("ROTATION_CONFLICT");
      expect(await versions(ws)).toEqual([1, 2]);
    } finally {
      await f.db.pool.query(`DROP TRIGGER straggler_${ws.replaceAll("-", "")} ON "workspace_key"; DROP FUNCTION straggler_${ws.replaceAll("-", "")}();`);
    }
    // Resumed (the trigger's rows rolled back with each attempt): version 2 is the target, the run is re-sealed.
    const result = await f.vault.rotateWorkspaceKey(ws);
    expect(result).toMatchObject({ version: 2, retired: [1], reencryptedByKind: byKind({ run_input: 1 }) });
    expect(await versions(ws)).toEqual([2]);
  });
});

async function createSubscription(ws: string, options: { previous: boolean }): Promise<{ id: string; secret: string; previous: string | null }> {
  const id = uuidv7();
  const secret = `whsec_${Buffer.from(uuidv7()).toString("base64")}`;
  const previous = options.previous ? `whsec_${Buffer.from(uuidv7()).toString("base64")}` : null;
  const seal = (v: string) => f.vault.seal(ws, v, { connectionId: id, purpose: TRIGGER_SIGNING_SECRET });
  await f.db.prisma.triggerSubscription.create({
    data: {
      id, workspaceId: ws, trigger: "SCALE_AI_TASK_COMPLETED", targetUrl: "https://example.com/hook", secretCiphertext: await seal(secret), secretHint: "whsec_…",
      ...(previous === null ? {} : { previousSecretCiphertext: await seal(previous), previousSecretExpiresAt: new Date(Date.now() + 3_600_000) }),
    },
  });
  return { id, secret, previous };
}

async function createRun(ws: string, status: string, sealed: Record<string, string> | null, vault: Vault = f.vault): Promise<{ id: string; sealed: Record<string, string> | null }> {
  const id = uuidv7();
  const sealedInput = sealed === null ? null : await vault.seal(ws, JSON.stringify(sealed), { connectionId: id, purpose: RUN_SENSITIVE_INPUT });
  await f.db.prisma.run.create({
    data: {
      id, workspaceId: ws, integration: "scale_ai", action: "SCALE_AI_IMPORT_FILE", schemaVersion: 1, status, input: { file_url: "[redacted]" }, sealedInput,
      // An ended run has ended at some time (run_finished_check).
      ...(status === "queued" || status === "running" ? {} : { finishedAt: new Date() }),
    },
  });
  return { id, sealed };
}
