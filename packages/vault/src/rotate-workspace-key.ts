import { uuidv7, type PrismaClient } from "@nagent/db";
import { newKey, wipe } from "./aead";
import { CONNECTION_CREDENTIALS } from "./context";
import { ENVELOPE_FORMAT, envelopeKeyVersion } from "./envelope";
import { isVaultError, VaultError } from "./errors";
import type { KeyResolver } from "./key-resolver";
import type { Keyring } from "./keyring";
import { openWithKey, sealWithKey } from "./secret-codec";
import { wrapDataKey } from "./wrapped-key";

export interface RotationResult {
  /** The data key version every connection secret of the workspace is now sealed with. */
  readonly version: number;
  /** Connections re-encrypted by this call. */
  readonly reencrypted: number;
  /**
   * Connections whose ciphertext did not open (altered, copied from another row, or naming a key version that no
   * longer exists). They are left as they are: they could not be opened before either. Ids only.
   */
  readonly unreadable: readonly string[];
  /** Data key versions deleted by this call. */
  readonly retired: readonly number[];
}

interface Deps {
  readonly prisma: PrismaClient;
  readonly keyring: Keyring;
  readonly resolver: KeyResolver;
}

const MAX_ATTEMPTS = 5;

/** Thrown inside the transaction to roll it back when connections changed under us. */
class StaleRows extends Error {}

/**
 * Data-key rotation: creates version n+1, re-encrypts every `connection.ciphertext` of the workspace under it, then
 * deletes the older versions, in that order, so runs opening secrets meanwhile keep working (an envelope names its
 * version, and every version exists until the re-encrypted rows commit).
 *
 * The crypto runs before BEGIN; the transaction only compare-and-sets each row on its old ciphertext, deletes the old
 * versions, then looks for rows still sealed with them (written concurrently). If it finds any it rolls back and
 * starts over. A rotation that crashed half way is resumed by the next call: when a workspace has two versions the
 * newest is the target and no new key is made.
 *
 * Residual race (see README): a secret sealed with the old version before n+1 existed but inserted after this
 * transaction committed is left naming a deleted version.
 */
export async function rotateWorkspaceKey(deps: Deps, workspaceId: string): Promise<RotationResult> {
  const { prisma, resolver } = deps;
  const target = await targetVersion(deps, workspaceId);
  let reencrypted = 0;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const rows = await prisma.connection.findMany({ where: { workspaceId }, select: { id: true, ciphertext: true } });
    const updates: { id: string; old: Uint8Array<ArrayBuffer>; next: Buffer<ArrayBuffer> }[] = [];
    const unreadable = new Map<string, Uint8Array>();
    for (const row of rows) {
      const next = await resealed(resolver, workspaceId, row.id, row.ciphertext, target);
      if (next === "unreadable") unreadable.set(row.id, row.ciphertext);
      else if (next !== "current") updates.push({ id: row.id, old: row.ciphertext, next });
    }

    try {
      const outcome = await prisma.$transaction(
        async (tx) => {
          let written = 0;
          for (const u of updates) {
            const { count } = await tx.connection.updateMany({ where: { id: u.id, workspaceId, ciphertext: u.old }, data: { ciphertext: u.next } });
            written += count;
          }
          const old = await tx.workspaceKey.findMany({ where: { workspaceId, version: { lt: target } }, select: { version: true } });
          await tx.workspaceKey.deleteMany({ where: { workspaceId, version: { lt: target } } });
          // After the delete (a new snapshot under READ COMMITTED): any row still naming an older version was
          // written after we read, or lost its compare-and-set; start over rather than strand it.
          const stragglers = await tx.connection.findMany({ where: { workspaceId }, select: { id: true, ciphertext: true } });
          for (const s of stragglers) {
            if (!namesOlderVersion(s.ciphertext, target)) continue;
            const known = unreadable.get(s.id);
            if (known !== undefined && Buffer.from(known).equals(s.ciphertext)) continue;
            throw new StaleRows();
          }
          return { written, retired: old.map((o) => o.version) };
        },
        { maxWait: 10_000, timeout: 60_000 },
      );
      reencrypted += outcome.written;
      for (const version of outcome.retired) resolver.cache.forget(workspaceId, version);
      return { version: target, reencrypted, unreadable: [...unreadable.keys()], retired: outcome.retired };
    } catch (error) {
      if (!(error instanceof StaleRows)) throw error;
    }
  }
  throw new VaultError("ROTATION_CONFLICT", `Connections kept changing during ${MAX_ATTEMPTS} attempts at rotating the data key; run it again (it resumes).`);
}

/** The version to rotate to: the newest if a rotation is unfinished (two versions exist), else a new one. */
async function targetVersion(deps: Deps, workspaceId: string): Promise<number> {
  const { prisma, keyring } = deps;
  const versions = await prisma.workspaceKey.findMany({ where: { workspaceId }, orderBy: { version: "asc" }, select: { version: true } });
  const latest = versions.at(-1)?.version;
  if (latest === undefined) throw new VaultError("KEY_NOT_FOUND", "The workspace has no data key to rotate.");
  if (versions.length > 1) return latest;
  const next = latest + 1;
  const key = newKey();
  try {
    const wrapped = wrapDataKey(key, workspaceId, next, keyring.active);
    // skipDuplicates: a concurrent rotation that created `next` first is fine, we share its target.
    await prisma.workspaceKey.createMany({
      data: [{ id: uuidv7(), workspaceId, version: next, wrappedKey: wrapped, masterKeyId: keyring.active.id }],
      skipDuplicates: true,
    });
  } finally {
    wipe(key);
  }
  return next;
}

/** The row's secret sealed under `target`, or whether it already is ("current") or cannot be opened ("unreadable"). */
async function resealed(resolver: KeyResolver, workspaceId: string, connectionId: string, ciphertext: Uint8Array, target: number): Promise<Buffer<ArrayBuffer> | "current" | "unreadable"> {
  let version: number;
  try {
    version = envelopeKeyVersion(ciphertext);
  } catch {
    return "unreadable";
  }
  if (version >= target) return "current";
  const context = { connectionId, purpose: CONNECTION_CREDENTIALS };
  let plain: Buffer;
  try {
    plain = await resolver.withKey(workspaceId, version, (key) => openWithKey(key, ciphertext, workspaceId, context));
  } catch (error) {
    if (isVaultError(error, "DECRYPT_FAILED") || isVaultError(error, "KEY_VERSION_RETIRED")) return "unreadable";
    throw error;
  }
  try {
    return await resolver.withKey(workspaceId, target, (key) => sealWithKey(key, target, workspaceId, context, plain));
  } finally {
    plain.fill(0);
  }
}

function namesOlderVersion(ciphertext: Uint8Array, target: number): boolean {
  if (ciphertext.length < 5 || ciphertext[0] !== ENVELOPE_FORMAT) return false;
  return Buffer.from(ciphertext.buffer, ciphertext.byteOffset, 5).readUInt32BE(1) < target;
}
