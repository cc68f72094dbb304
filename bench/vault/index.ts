// Vault benchmark: `npx tsx bench/vault/index.ts`, or `run()` from the bench runner.
//
// 1. Throughput of sealing and opening ~40-byte API keys with the vault's codec (XChaCha20-Poly1305, libsodium.js
//    wasm), against node:crypto AES-256-GCM doing the same envelope work, alternated in one run.
// 2. What opening a connection's secret adds to one run, p50/p99: with the data key cached (the usual case), and
//    cold (the wrapped-key read from PostgreSQL, the unwrap, the decrypt), each against the same work done with
//    AES-256-GCM; and the PostgreSQL read alone, the floor of the cold path.
//
// It creates its own database (`nagent_bench_vault` on the server of DATABASE_URL) and drops it at the end.
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { dropDatabase, withDatabase } from "../lib/database";
import { loadConfig, readEnvironment } from "@nagent/config";
import { createDatabase, migrate, MIGRATIONS_DIR, uuidv7, type Database } from "@nagent/db";
import { CONNECTION_CREDENTIALS, createVault } from "@nagent/vault";
import { newKey, sodiumReady } from "../../packages/vault/src/aead";
import { ENVELOPE_FORMAT, secretAssociatedData } from "../../packages/vault/src/envelope";
import { openWithKey, sealWithKey } from "../../packages/vault/src/secret-codec";
import { aesOpen, aesSeal } from "./aes-baseline";
import { compareLatency, compareThroughput, fmtRate, fmtUs, latency, type Latency } from "./measure";

const DB_NAME = "nagent_bench_vault";
const WORKSPACES = 300;

export interface VaultBenchResult {
  readonly throughput: { readonly seal: { xchacha: number; aesGcm: number }; readonly open: { xchacha: number; aesGcm: number } };
  readonly openWarm: { readonly vault: Latency; readonly aesGcm: Latency };
  readonly openCold: { readonly vault: Latency; readonly aesGcm: Latency; readonly readOnly: Latency };
  readonly seal: Latency;
}

/** Runs the benchmark and prints its figures; returns them too. Takes ~15 s on the 2-core machines. */
export async function run(): Promise<VaultBenchResult> {
  await sodiumReady();
  console.log("vault benchmark: libsodium XChaCha20-Poly1305 against node:crypto AES-256-GCM, measured alternately in this run");
  const throughput = measureThroughput();
  const { env } = readEnvironment(process.env, { envFile: ".env.local", generate: false });
  const url = withDatabase(loadConfig(env, { secrets: false }).databaseUrl, DB_NAME);
  await dropDatabase(url);
  await migrate({ url, dir: MIGRATIONS_DIR });
  const db = createDatabase({ url, max: 4 });
  try {
    const perRun = await measurePerRun(db);
    return { throughput, ...perRun };
  } finally {
    await db.close();
    await dropDatabase(url);
  }
}

function measureThroughput(): VaultBenchResult["throughput"] {
  const key = newKey();
  const aesKey = randomBytes(32);
  const workspaceId = uuidv7();
  const context = { connectionId: uuidv7(), purpose: CONNECTION_CREDENTIALS };
  const secret = Buffer.from(`live_${randomBytes(18).toString("hex")}`.slice(0, 40));
  // Both sides build the same associated data per operation, as the vault does.
  const ad = (): Buffer => secretAssociatedData(ENVELOPE_FORMAT, 1, workspaceId, context);
  const sealed = sealWithKey(key, 1, workspaceId, context, secret);
  const aesSealed = aesSeal(aesKey, 1, ad(), secret);
  const iterations = 20_000;
  const seal = compareThroughput(5, iterations, () => sealWithKey(key, 1, workspaceId, context, secret), () => aesSeal(aesKey, 1, ad(), secret));
  const open = compareThroughput(5, iterations, () => openWithKey(key, sealed, workspaceId, context), () => aesOpen(aesKey, aesSealed, ad()));
  console.log(`  seal of a ${secret.length}-byte secret: xchacha20-poly1305 ${fmtRate(seal.a)}, aes-256-gcm ${fmtRate(seal.b)} (ratio ${(seal.a / seal.b).toFixed(2)})`);
  console.log(`  open of a ${secret.length}-byte secret: xchacha20-poly1305 ${fmtRate(open.a)}, aes-256-gcm ${fmtRate(open.b)} (ratio ${(open.a / open.b).toFixed(2)})`);
  return { seal: { xchacha: seal.a, aesGcm: seal.b }, open: { xchacha: open.a, aesGcm: open.b } };
}

interface Fixture {
  readonly workspaceId: string;
  readonly connectionId: string;
  readonly envelope: Uint8Array;
  /** The same secret and data key under AES-256-GCM, for the baseline. */
  readonly aesWrappedKey: Buffer;
  readonly aesEnvelope: Buffer;
}

async function measurePerRun(db: Database): Promise<Omit<VaultBenchResult, "throughput">> {
  const masterKeys = [{ id: "v1", key: randomBytes(32) }];
  const warm = await createVault({ prisma: db.prisma, masterKeys });
  const cold = await createVault({ prisma: db.prisma, masterKeys, cache: { ttlMs: 0 } });
  try {
    const fixtures = await seed(db, warm, masterKeys[0]!.key);
    const ctx = (f: Fixture) => ({ connectionId: f.connectionId, purpose: CONNECTION_CREDENTIALS });
    const adOf = (f: Fixture): Buffer => secretAssociatedData(ENVELOPE_FORMAT, 1, f.workspaceId, ctx(f));
    const pick = (i: number): Fixture => fixtures[i % fixtures.length]!;
    const aesKeys = new Map<string, Buffer>();
    const aesKeyOf = (f: Fixture): Buffer => {
      let k = aesKeys.get(f.workspaceId);
      if (!k) aesKeys.set(f.workspaceId, (k = aesOpen(masterKeys[0]!.key, f.aesWrappedKey, Buffer.from(f.workspaceId))));
      return k;
    };
    const readKeyRow = (f: Fixture) =>
      db.prisma.workspaceKey.findUnique({ where: { workspaceId_version: { workspaceId: f.workspaceId, version: 1 } }, select: { version: true, wrappedKey: true, masterKeyId: true } });

    // Warm: the data key is cached, as for every run of a workspace after its first within the TTL.
    for (const f of fixtures) await warm.open(f.workspaceId, f.envelope, ctx(f));
    for (const f of fixtures) aesKeyOf(f);
    const [warmVault, warmAes] = (await compareLatency(5, 1_000, [
      (i) => warm.open(pick(i).workspaceId, pick(i).envelope, ctx(pick(i))),
      async (i) => aesOpen(aesKeyOf(pick(i)), pick(i).aesEnvelope, adOf(pick(i))),
    ])) as [Latency, Latency];
    // Cold: read the wrapped key row, unwrap it, decrypt; the AES side does the same read and the same two decryptions.
    // The PostgreSQL read alone is the floor of both.
    const [coldVault, coldAes, readOnly] = (await compareLatency(6, 100, [
      (i) => cold.open(pick(i).workspaceId, pick(i).envelope, ctx(pick(i))),
      async (i) => {
        const f = pick(i);
        await readKeyRow(f);
        const key = aesOpen(masterKeys[0]!.key, f.aesWrappedKey, Buffer.from(f.workspaceId));
        aesOpen(key, f.aesEnvelope, adOf(f));
      },
      (i) => readKeyRow(pick(i)),
    ])) as [Latency, Latency, Latency];
    const seal = await latency(600, (i) => warm.seal(pick(i).workspaceId, "live_0123456789abcdef0123456789abcdef012", ctx(pick(i))));

    const ratio = (a: Latency, b: Latency): string => (a.p50 / b.p50).toFixed(2);
    console.log("  added cost of opening a connection's secret for one run (p50 / p99, sequential):");
    const pair = (a: Latency, b: Latency): string => `vault ${fmtUs(a.p50)} / ${fmtUs(a.p99)}, aes-256-gcm ${fmtUs(b.p50)} / ${fmtUs(b.p99)} (p50 ratio ${ratio(a, b)})`;
    console.log(`    warm, data key cached:   ${pair(warmVault, warmAes)}`);
    console.log(`    cold, row read + unwrap: ${pair(coldVault, coldAes)}`);
    console.log(`    the PostgreSQL read alone: ${fmtUs(readOnly.p50)} / ${fmtUs(readOnly.p99)} (cold vault open / read alone: ${ratio(coldVault, readOnly)})`);
    console.log(`  vault.seal (reads the active key version, then seals): ${fmtUs(seal.p50)} / ${fmtUs(seal.p99)}`);
    return { openWarm: { vault: warmVault, aesGcm: warmAes }, openCold: { vault: coldVault, aesGcm: coldAes, readOnly }, seal };
  } finally {
    warm.close();
    cold.close();
  }
}

/** Workspaces, each with a data key and one connection's secret sealed by the vault, and the AES twins in memory. */
async function seed(db: Database, vault: Awaited<ReturnType<typeof createVault>>, aesMaster: Buffer): Promise<Fixture[]> {
  const ids = Array.from({ length: WORKSPACES }, () => uuidv7());
  await db.prisma.workspace.createMany({ data: ids.map((id, i) => ({ id, name: `bench ${i}` })) });
  const fixtures: Fixture[] = [];
  for (const workspaceId of ids) {
    await vault.ensureWorkspaceKey(workspaceId);
    const connectionId = uuidv7();
    const secret = Buffer.from(`live_${randomBytes(18).toString("hex")}`.slice(0, 40));
    const ctx = { connectionId, purpose: CONNECTION_CREDENTIALS };
    const envelope = await vault.seal(workspaceId, secret, ctx);
    const aesDataKey = randomBytes(32);
    fixtures.push({
      workspaceId,
      connectionId,
      envelope,
      aesWrappedKey: aesSeal(aesMaster, 1, Buffer.from(workspaceId), aesDataKey),
      aesEnvelope: aesSeal(aesDataKey, 1, secretAssociatedData(ENVELOPE_FORMAT, 1, workspaceId, ctx), secret),
    });
  }
  await db.prisma.connection.createMany({
    data: fixtures.map((f, i) => ({ id: f.connectionId, workspaceId: f.workspaceId, integration: "scale_ai", name: `c${i}`, status: "active", ciphertext: Buffer.from(f.envelope), credentialHint: "…" })),
  });
  return fixtures;
}



if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
