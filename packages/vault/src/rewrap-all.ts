import type { PrismaClient } from "@nagent/db";
import { wipe } from "./aead";
import { isVaultError } from "./errors";
import type { Keyring } from "./keyring";
import { unwrapDataKey, wrapDataKey } from "./wrapped-key";

export interface RewrapOptions {
  /** Data keys read, rewrapped and written per round trip. Default 100, at most 10,000. */
  readonly batchSize?: number;
  /** Called after each batch with the running totals (counts only). */
  readonly onProgress?: (progress: RewrapProgress) => void;
}

export interface RewrapProgress {
  /** Rows examined so far (wrapped by a master key other than the active one when read). */
  readonly scanned: number;
  /** Rows this run rewrapped to the active master key. */
  readonly rewrapped: number;
  /** Rows whose compare-and-set found them changed: rewrapped by a concurrent run, or deleted meanwhile. */
  readonly skipped: number;
  /** Rows that could not be unwrapped (their master key is absent or does not open them). */
  readonly failed: number;
}

export interface RewrapResult extends RewrapProgress {
  readonly activeMasterKeyId: string;
  /** Rows still not wrapped by the active key when the run ended (0 means the old keys can be removed). */
  readonly remaining: number;
  /** Up to 100 rows that failed, by workspace_key id, with the error code (never key material). */
  readonly failures: readonly { readonly id: string; readonly code: string }[];
}

/**
 * Master-key rotation: rewraps every data key that is not wrapped by the active master key. Each batch is read by
 * id order (keyset pagination, so rows that fail are passed over, not retried forever), unwrapped and rewrapped in
 * memory, then written in one transaction where each row is a compare-and-set on its current master_key_id. So a
 * concurrent run, a restart half way, or the API and workers opening secrets meanwhile are all harmless: a row is
 * wrapped by the old key or the new one, both in the keyring, and the data key itself never changes.
 */
export async function rewrapAll(deps: { prisma: PrismaClient; keyring: Keyring }, options: RewrapOptions = {}): Promise<RewrapResult> {
  const { prisma, keyring } = deps;
  const active = keyring.active;
  const batchSize = Math.min(10_000, Math.max(1, Math.floor(options.batchSize ?? 100)));
  let scanned = 0;
  let rewrapped = 0;
  let skipped = 0;
  let failed = 0;
  const failures: { id: string; code: string }[] = [];
  let after: string | undefined;

  for (;;) {
    const rows = await prisma.workspaceKey.findMany({
      where: { masterKeyId: { not: active.id }, ...(after === undefined ? {} : { id: { gt: after } }) },
      orderBy: { id: "asc" },
      take: batchSize,
      select: { id: true, workspaceId: true, version: true, wrappedKey: true, masterKeyId: true },
    });
    if (rows.length === 0) break;
    after = rows.at(-1)!.id;
    scanned += rows.length;

    const writes: { id: string; workspaceId: string; from: string; wrapped: Buffer<ArrayBuffer> }[] = [];
    for (const row of rows) {
      let key: Uint8Array | undefined;
      try {
        key = unwrapDataKey(row.wrappedKey, row.workspaceId, row.version, keyring.get(row.masterKeyId));
        writes.push({ id: row.id, workspaceId: row.workspaceId, from: row.masterKeyId, wrapped: wrapDataKey(key, row.workspaceId, row.version, active) });
      } catch (error) {
        if (!isVaultError(error, "UNKNOWN_MASTER_KEY") && !isVaultError(error, "KEY_UNWRAP_FAILED")) throw error;
        failed += 1;
        if (failures.length < 100) failures.push({ id: row.id, code: error.code });
      } finally {
        wipe(key);
      }
    }

    if (writes.length > 0) {
      const rotatedAt = new Date();
      const results = await prisma.$transaction(
        writes.map((w) =>
          prisma.workspaceKey.updateMany({
            where: { id: w.id, workspaceId: w.workspaceId, masterKeyId: w.from },
            data: { wrappedKey: w.wrapped, masterKeyId: active.id, rotatedAt },
          }),
        ),
      );
      for (const { count } of results) {
        if (count === 1) rewrapped += 1;
        else skipped += 1;
      }
    }
    options.onProgress?.({ scanned, rewrapped, skipped, failed });
  }

  const remaining = await prisma.workspaceKey.count({ where: { masterKeyId: { not: active.id } } });
  return { activeMasterKeyId: active.id, scanned, rewrapped, skipped, failed, remaining, failures };
}
