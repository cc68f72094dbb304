import type { Prisma, PrismaClient } from "@nagent/db";
import { uuidv7 } from "@nagent/db";
import type { Classification, Compatibility } from "./compatibility";

/** Upper bound on stored change entries per version: a rewrite of a big schema should not make a huge row. */
const MAX_CHANGES = 200;

/** One schema the registry serves, to version: its owner (integration and action or trigger slug) and content. */
export interface VersionedEntry<C> {
  readonly integration: string;
  readonly slug: string;
  readonly contentHash: string;
  readonly content: C;
}

/** A stored version as the sync reads it (without its content). */
export interface StoredVersion {
  readonly id: string;
  readonly integration: string;
  readonly slug: string;
  readonly version: number;
  readonly contentHash: string;
}

/** A version the sync adds. */
export interface NewVersion<C> extends StoredVersion {
  readonly content: C;
  readonly compatibility: Compatibility | null;
  readonly changes: object[];
}

/** What happened to one entry during a sync. */
export interface SyncedVersion {
  readonly integration: string;
  readonly slug: string;
  /** The entry's current version after the sync. */
  readonly version: number;
  /** Whether this sync added that version (false: a stored version already had this content). */
  readonly created: boolean;
  /** Against the highest version before; `null` for version 1 and when no version was added. */
  readonly compatibility: Compatibility | null;
}

/** The table a kind of schema is versioned in (action_schema, trigger_schema), as the sync uses it. */
export interface VersionTable<C> {
  /**
   * Key of the transaction-level advisory lock that serializes syncs: two processes booting at once take turns,
   * and the second finds the first one's rows (the table's unique (integration, slug, version) backs this up).
   */
  readonly lockKey: string;
  stored(tx: Prisma.TransactionClient, integrations: string[]): Promise<StoredVersion[]>;
  contents(tx: Prisma.TransactionClient, ids: string[]): Promise<{ integration: string; slug: string; content: C }[]>;
  classify(before: C, after: C): Classification;
  insert(tx: Prisma.TransactionClient, rows: NewVersion<C>[]): Promise<unknown>;
}

/**
 * Stores each entry's content as a numbered version under its content hash. Content that an entry already had keeps
 * its version number (as Confluent's registry answers a schema it already holds with its existing version), so each
 * process reports the version of the schemas it actually serves, even during a rolling deploy or after a revert.
 * New content adds the next version, classified against the highest stored one. Database work only inside the
 * transaction; safe to run from several processes at once.
 */
export async function syncVersions<C>(prisma: PrismaClient, entries: readonly VersionedEntry<C>[], table: VersionTable<C>): Promise<SyncedVersion[]> {
  const key = (integration: string, slug: string): string => `${integration}\u0000${slug}`;
  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${table.lockKey}, 0))`;
      const stored = await table.stored(tx, [...new Set(entries.map((e) => e.integration))]);
      const known = new Map<string, { byHash: Map<string, number>; latest: StoredVersion }>();
      for (const row of stored) {
        const k = key(row.integration, row.slug);
        const entry = known.get(k) ?? { byHash: new Map<string, number>(), latest: row };
        entry.byHash.set(row.contentHash, row.version);
        if (row.version > entry.latest.version) entry.latest = row;
        known.set(k, entry);
      }
      const changed = entries.filter((e) => known.get(key(e.integration, e.slug))?.byHash.has(e.contentHash) !== true);
      const previousIds = changed.flatMap((e) => known.get(key(e.integration, e.slug))?.latest.id ?? []);
      const previous = new Map((previousIds.length === 0 ? [] : await table.contents(tx, previousIds)).map((r) => [key(r.integration, r.slug), r.content]));
      const out: SyncedVersion[] = [];
      const rows: NewVersion<C>[] = [];
      for (const entry of entries) {
        const k = key(entry.integration, entry.slug);
        const existing = known.get(k)?.byHash.get(entry.contentHash);
        if (existing !== undefined) {
          out.push({ integration: entry.integration, slug: entry.slug, version: existing, created: false, compatibility: null });
          continue;
        }
        const before = previous.get(k);
        const classification = before === undefined ? undefined : table.classify(before, entry.content);
        const version = (known.get(k)?.latest.version ?? 0) + 1;
        const compatibility = classification?.compatibility ?? null;
        const changes = classification === undefined ? [] : (classification.changes.slice(0, MAX_CHANGES) as unknown as object[]);
        rows.push({ id: uuidv7(), integration: entry.integration, slug: entry.slug, version, contentHash: entry.contentHash, content: entry.content, compatibility, changes });
        out.push({ integration: entry.integration, slug: entry.slug, version, created: true, compatibility });
      }
      if (rows.length > 0) await table.insert(tx, rows);
      return out;
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
}
