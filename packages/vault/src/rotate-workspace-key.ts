import { uuidv7, type PrismaClient } from "@nagent/db";
import { newKey, wipe } from "./aead";
import { CONNECTION_CREDENTIALS, RUN_SENSITIVE_INPUT, TRIGGER_SIGNING_SECRET } from "./context";
import { ENVELOPE_FORMAT, envelopeKeyVersion } from "./envelope";
import { isVaultError, VaultError } from "./errors";
import type { KeyResolver } from "./key-resolver";
import type { Keyring } from "./keyring";
import { openWithKey, sealWithKey } from "./secret-codec";
import { wrapDataKey } from "./wrapped-key";

/**
 * One column that holds envelopes sealed with the workspace's data keys. The envelope's context is (the row's
 * `idColumn` value, `purpose`); every table has a `workspace_id`. Rotation re-seals exactly these columns, so a new
 * kind of secret sealed with a data key must be added here (and `SealedKind` grows with it).
 */
export interface SealedColumn {
  /** The name the rotation result counts it under. */
  readonly kind: string;
  readonly table: string;
  /** The row's id; also the envelope's context id (`SecretContext.connectionId`). */
  readonly idColumn: string;
  /** A BYTEA column; NULL means "nothing sealed" (e.g. a run that ended) and is skipped. */
  readonly column: string;
  readonly purpose: string;
}

/** Every column sealed with workspace data keys (identifiers are constants: they are interpolated into SQL). */
export const SEALED_COLUMNS = [
  { kind: "connection", table: "connection", idColumn: "id", column: "ciphertext", purpose: CONNECTION_CREDENTIALS },
  { kind: "subscription_secret", table: "trigger_subscription", idColumn: "id", column: "secret_ciphertext", purpose: TRIGGER_SIGNING_SECRET },
  { kind: "subscription_previous_secret", table: "trigger_subscription", idColumn: "id", column: "previous_secret_ciphertext", purpose: TRIGGER_SIGNING_SECRET },
  { kind: "run_input", table: "run", idColumn: "id", column: "sealed_input", purpose: RUN_SENSITIVE_INPUT },
] as const satisfies readonly SealedColumn[];

export type SealedKind = (typeof SEALED_COLUMNS)[number]["kind"];

export interface RotationResult {
  /** The data key version every sealed column of the workspace is now sealed with. */
  readonly version: number;
  /** Sealed values re-encrypted by this call, all kinds together (a subscription with a previous secret counts 2). */
  readonly reencrypted: number;
  /** `reencrypted` per kind of sealed column (`SEALED_COLUMNS`). */
  readonly reencryptedByKind: Readonly<Record<SealedKind, number>>;
  /**
   * Ids of rows with a sealed value that did not open (altered, copied from another row, or naming a key version that
   * no longer exists). They are left as they are: they could not be opened before either. Ids only, each once.
   */
  readonly unreadable: readonly string[];
  /** `unreadable` per kind. */
  readonly unreadableByKind: Readonly<Record<SealedKind, readonly string[]>>;
  /** Data key versions deleted by this call. */
  readonly retired: readonly number[];
}

interface Deps {
  readonly prisma: PrismaClient;
  readonly keyring: Keyring;
  readonly resolver: KeyResolver;
}

type Db = Pick<PrismaClient, "$queryRawUnsafe" | "$executeRawUnsafe">;

const MAX_ATTEMPTS = 5;

/** Thrown inside the transaction to roll it back when sealed rows changed under us. */
class StaleRows extends Error {}

interface Update {
  readonly sealed: SealedColumn & { readonly kind: SealedKind };
  readonly id: string;
  readonly old: Buffer;
  readonly next: Buffer;
}

/**
 * Data-key rotation: creates version n+1, re-encrypts every sealed column of the workspace (`SEALED_COLUMNS`:
 * connections' credentials, trigger subscriptions' signing secrets, live runs' sensitive input) under it, then deletes
 * the older versions, in that order, so readers opening secrets meanwhile keep working (an envelope names its version,
 * and every version exists until the re-encrypted rows commit).
 *
 * The crypto runs before BEGIN; the transaction only compare-and-sets each value on its old ciphertext, deletes the
 * old versions, then looks for values still sealed with them (written concurrently). If it finds any it rolls back
 * and starts over. A rotation that crashed half way is resumed by the next call: when a workspace has two versions
 * the newest is the target and no new key is made. Only values that need it are read: NULLs (ended runs) and values
 * already under the target are filtered out by PostgreSQL.
 *
 * Residual race (see README): a secret sealed with the old version before n+1 existed but inserted after this
 * transaction committed is left naming a deleted version.
 */
export async function rotateWorkspaceKey(deps: Deps, workspaceId: string): Promise<RotationResult> {
  const { prisma, resolver } = deps;
  const target = await targetVersion(deps, workspaceId);
  const reencryptedByKind = countsByKind(() => 0);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const updates: Update[] = [];
    const unreadable = new Map<string, Buffer>();
    for (const sealed of SEALED_COLUMNS) {
      for (const row of await staleValues(prisma, sealed, workspaceId, target, "or-malformed")) {
        const next = await resealed(resolver, workspaceId, row.id, sealed.purpose, row.ciphertext, target);
        if (next === "unreadable") unreadable.set(unreadableKey(sealed, row.id), row.ciphertext);
        else if (next !== "current") updates.push({ sealed, id: row.id, old: row.ciphertext, next });
      }
    }

    try {
      const outcome = await prisma.$transaction(
        async (tx) => {
          const written = countsByKind(() => 0);
          for (const u of updates) {
            const { sealed } = u;
            written[sealed.kind] += await tx.$executeRawUnsafe(
              `UPDATE ${q(sealed.table)} SET ${q(sealed.column)} = $1 WHERE ${q(sealed.idColumn)} = $2::uuid AND "workspace_id" = $3::uuid AND ${q(sealed.column)} = $4`,
              u.next, u.id, workspaceId, u.old,
            );
          }
          const old = await tx.workspaceKey.findMany({ where: { workspaceId, version: { lt: target } }, select: { version: true } });
          await tx.workspaceKey.deleteMany({ where: { workspaceId, version: { lt: target } } });
          // After the delete (a new snapshot under READ COMMITTED): any value still naming an older version was
          // written after we read, or lost its compare-and-set; start over rather than strand it.
          for (const sealed of SEALED_COLUMNS) {
            for (const s of await staleValues(tx, sealed, workspaceId, target, "well-formed")) {
              const known = unreadable.get(unreadableKey(sealed, s.id));
              if (known !== undefined && known.equals(s.ciphertext)) continue;
              throw new StaleRows();
            }
          }
          return { written, retired: old.map((o) => o.version) };
        },
        { maxWait: 10_000, timeout: 60_000 },
      );
      for (const sealed of SEALED_COLUMNS) reencryptedByKind[sealed.kind] += outcome.written[sealed.kind];
      for (const version of outcome.retired) resolver.cache.forget(workspaceId, version);
      const unreadableByKind = countsByKind<string[]>(() => []);
      for (const key of unreadable.keys()) {
        const [kind, id] = key.split(" ") as [SealedKind, string];
        unreadableByKind[kind].push(id);
      }
      return {
        version: target,
        reencrypted: Object.values(reencryptedByKind).reduce((a, b) => a + b, 0),
        reencryptedByKind,
        unreadable: [...new Set(Object.values(unreadableByKind).flat())],
        unreadableByKind,
        retired: outcome.retired,
      };
    } catch (error) {
      if (!(error instanceof StaleRows)) throw error;
    }
  }
  throw new VaultError("ROTATION_CONFLICT", `Sealed rows kept changing during ${MAX_ATTEMPTS} attempts at rotating the data key; run it again (it resumes).`);
}

function countsByKind<T>(init: () => T): Record<SealedKind, T> {
  return Object.fromEntries(SEALED_COLUMNS.map((c) => [c.kind, init()])) as Record<SealedKind, T>;
}

function unreadableKey(sealed: SealedColumn, id: string): string {
  return `${sealed.kind} ${id}`;
}

function q(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * The workspace's non-NULL values of a sealed column that name a key version older than `target` ("well-formed"), or
 * also those that are not an envelope at all ("or-malformed": the pre-transaction read, which reports them as
 * unreadable). Envelope header: format byte, then the key version as a big-endian uint32, compared as bytes.
 */
async function staleValues(db: Db, sealed: SealedColumn, workspaceId: string, target: number, which: "well-formed" | "or-malformed"): Promise<{ id: string; ciphertext: Buffer }[]> {
  const col = q(sealed.column);
  const wellFormed = `(length(${col}) >= 5 AND get_byte(${col}, 0) = $2)`;
  const condition = which === "well-formed"
    ? `${wellFormed} AND substring(${col} from 2 for 4) < int4send($3::int)`
    : `NOT (${wellFormed} AND substring(${col} from 2 for 4) >= int4send($3::int))`;
  const rows = await db.$queryRawUnsafe<{ id: string; ciphertext: Uint8Array }[]>(
    `SELECT ${q(sealed.idColumn)}::text AS id, ${col} AS ciphertext FROM ${q(sealed.table)}
     WHERE "workspace_id" = $1::uuid AND ${col} IS NOT NULL AND ${condition}`,
    workspaceId, ENVELOPE_FORMAT, target,
  );
  return rows.map((r) => ({ id: r.id, ciphertext: Buffer.from(r.ciphertext) }));
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

/** The value sealed under `target`, or whether it already is ("current") or cannot be opened ("unreadable"). */
async function resealed(resolver: KeyResolver, workspaceId: string, contextId: string, purpose: string, ciphertext: Uint8Array, target: number): Promise<Buffer<ArrayBuffer> | "current" | "unreadable"> {
  let version: number;
  try {
    version = envelopeKeyVersion(ciphertext);
  } catch {
    return "unreadable";
  }
  if (version >= target) return "current";
  const context = { connectionId: contextId, purpose };
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
