import type { PrismaClient } from "@nagent/db";
import { uuidv7 } from "@nagent/db";
import { classifyActionChange, classifyTriggerChange, type Compatibility, type SchemaChange } from "./compatibility";
import type { Registry } from "./registry";
import type { JsonSchema } from "./types";

/** What happened to one action's schemas during a sync. */
export interface SyncedAction {
  readonly integration: string;
  readonly action: string;
  /** The action's current version after the sync. */
  readonly version: number;
  /** Whether this sync added that version (false: a stored version already had this content). */
  readonly created: boolean;
  /** Against the highest version before; `null` for version 1 and when no version was added. */
  readonly compatibility: Compatibility | null;
}

export interface SchemaVersionSummary {
  readonly version: number;
  readonly content_hash: string;
  /** Against the version before (`null` for version 1). */
  readonly compatibility: Compatibility | null;
  readonly changes: readonly SchemaChange[];
  readonly created_at: string;
}

export interface SchemaVersionDetail extends SchemaVersionSummary {
  readonly input_schema: JsonSchema;
  readonly output_schema: JsonSchema;
}

/** Upper bound on stored change entries per version: a rewrite of a big schema should not make a huge row. */
const MAX_CHANGES = 200;
/**
 * Key of the transaction-level advisory lock that serializes syncs: two processes booting at once take turns, and
 * the second finds the first one's rows (the unique (integration, action, version) constraint backs this up).
 */
const LOCK_KEY = "nagent:action_schema:sync";
const TRIGGER_LOCK_KEY = "nagent:trigger_schema:sync";

/** What happened to one trigger's payload schema during a sync. */
export interface SyncedTrigger {
  readonly integration: string;
  readonly trigger: string;
  readonly version: number;
  readonly created: boolean;
  readonly compatibility: Compatibility | null;
}

export interface TriggerSchemaVersionDetail extends SchemaVersionSummary {
  readonly payload_schema: JsonSchema;
}

/**
 * Stores each action's bundled (input, output) schemas as a numbered version under the SHA-256 of their canonical
 * JSON. Content that an action already had keeps its version number (as Confluent's registry answers a schema it
 * already holds with its existing version), so each process reports the version of the schemas it actually serves,
 * even during a rolling deploy or after a revert. New content adds the next version, classified against the
 * highest stored one (`compatibility` and the list of `changes`). Afterwards `registry.getAction(slug)
 * .schema_version` is the current version. Database work only inside the transaction; safe to run from several
 * processes at once. Trigger payload schemas are synced the same way right after (`syncTriggerSchemaVersions`);
 * the result lists the actions only.
 */
export async function syncSchemaVersions(prisma: PrismaClient, registry: Registry): Promise<SyncedAction[]> {
  const entries = registry.versionedSchemas();
  const key = (integration: string, action: string): string => `${integration}\u0000${action}`;
  const synced = await prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${LOCK_KEY}, 0))`;
      const integrations = [...new Set(entries.map((e) => e.integration))];
      const stored = await tx.actionSchema.findMany({
        where: { integration: { in: integrations } },
        select: { id: true, integration: true, action: true, version: true, contentHash: true },
      });
      const known = new Map<string, { byHash: Map<string, number>; latest: { id: string; version: number } }>();
      for (const row of stored) {
        const k = key(row.integration, row.action);
        const entry = known.get(k) ?? { byHash: new Map<string, number>(), latest: row };
        entry.byHash.set(row.contentHash, row.version);
        if (row.version > entry.latest.version) entry.latest = row;
        known.set(k, entry);
      }
      const changed = entries.filter((e) => known.get(key(e.integration, e.action))?.byHash.has(e.contentHash) !== true);
      const previousIds = changed.flatMap((e) => known.get(key(e.integration, e.action))?.latest.id ?? []);
      const previous = new Map(
        (previousIds.length === 0 ? [] : await tx.actionSchema.findMany({ where: { id: { in: previousIds } }, select: { integration: true, action: true, inputSchema: true, outputSchema: true } })).map((r) => [
          key(r.integration, r.action),
          { input: r.inputSchema as JsonSchema, output: r.outputSchema as JsonSchema },
        ]),
      );
      const out: SyncedAction[] = [];
      const rows = [];
      for (const entry of entries) {
        const k = key(entry.integration, entry.action);
        const existing = known.get(k)?.byHash.get(entry.contentHash);
        if (existing !== undefined) {
          out.push({ integration: entry.integration, action: entry.action, version: existing, created: false, compatibility: null });
          continue;
        }
        const before = previous.get(k);
        const classification = before === undefined ? undefined : classifyActionChange(before, { input: entry.input, output: entry.output });
        const version = (known.get(k)?.latest.version ?? 0) + 1;
        rows.push({
          id: uuidv7(),
          integration: entry.integration,
          action: entry.action,
          version,
          contentHash: entry.contentHash,
          inputSchema: entry.input as object,
          outputSchema: entry.output as object,
          compatibility: classification?.compatibility ?? null,
          changes: classification === undefined ? [] : (classification.changes.slice(0, MAX_CHANGES) as unknown as object[]),
        });
        out.push({ integration: entry.integration, action: entry.action, version, created: true, compatibility: classification?.compatibility ?? null });
      }
      if (rows.length > 0) await tx.actionSchema.createMany({ data: rows });
      return out;
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  for (const s of synced) registry.setSchemaVersion(s.action, s.version);
  await syncTriggerSchemaVersions(prisma, registry);
  return synced;
}

/**
 * `syncSchemaVersions` for trigger payload schemas, stored in `trigger_schema`: content a trigger already had keeps
 * its number, new content gets max + 1 classified against the highest version from the subscribers' side
 * (`classifyTriggerChange`). Afterwards `registry.getTrigger(slug).schema_version` is the current version.
 */
export async function syncTriggerSchemaVersions(prisma: PrismaClient, registry: Registry): Promise<SyncedTrigger[]> {
  const entries = registry.versionedTriggerSchemas();
  const key = (integration: string, trigger: string): string => `${integration}\u0000${trigger}`;
  const synced = await prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${TRIGGER_LOCK_KEY}, 0))`;
      const integrations = [...new Set(entries.map((e) => e.integration))];
      const stored = await tx.triggerSchema.findMany({
        where: { integration: { in: integrations } },
        select: { id: true, integration: true, trigger: true, version: true, contentHash: true },
      });
      const known = new Map<string, { byHash: Map<string, number>; latest: { id: string; version: number } }>();
      for (const row of stored) {
        const k = key(row.integration, row.trigger);
        const entry = known.get(k) ?? { byHash: new Map<string, number>(), latest: row };
        entry.byHash.set(row.contentHash, row.version);
        if (row.version > entry.latest.version) entry.latest = row;
        known.set(k, entry);
      }
      const changed = entries.filter((e) => known.get(key(e.integration, e.trigger))?.byHash.has(e.contentHash) !== true);
      const previousIds = changed.flatMap((e) => known.get(key(e.integration, e.trigger))?.latest.id ?? []);
      const previous = new Map(
        (previousIds.length === 0 ? [] : await tx.triggerSchema.findMany({ where: { id: { in: previousIds } }, select: { integration: true, trigger: true, payloadSchema: true } })).map((r) => [
          key(r.integration, r.trigger),
          r.payloadSchema as JsonSchema,
        ]),
      );
      const out: SyncedTrigger[] = [];
      const rows = [];
      for (const entry of entries) {
        const k = key(entry.integration, entry.trigger);
        const existing = known.get(k)?.byHash.get(entry.contentHash);
        if (existing !== undefined) {
          out.push({ integration: entry.integration, trigger: entry.trigger, version: existing, created: false, compatibility: null });
          continue;
        }
        const before = previous.get(k);
        const classification = before === undefined ? undefined : classifyTriggerChange(before, entry.payload);
        const version = (known.get(k)?.latest.version ?? 0) + 1;
        rows.push({
          id: uuidv7(),
          integration: entry.integration,
          trigger: entry.trigger,
          version,
          contentHash: entry.contentHash,
          payloadSchema: entry.payload as object,
          compatibility: classification?.compatibility ?? null,
          changes: classification === undefined ? [] : (classification.changes.slice(0, MAX_CHANGES) as unknown as object[]),
        });
        out.push({ integration: entry.integration, trigger: entry.trigger, version, created: true, compatibility: classification?.compatibility ?? null });
      }
      if (rows.length > 0) await tx.triggerSchema.createMany({ data: rows });
      return out;
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  for (const s of synced) registry.setTriggerSchemaVersion(s.trigger, s.version);
  return synced;
}

/** The payload schema versions stored for a trigger, newest first (at most `limit`, default 100), without the schemas. */
export async function listTriggerSchemaVersions(prisma: PrismaClient, trigger: string, options: { limit?: number } = {}): Promise<SchemaVersionSummary[]> {
  const rows = await prisma.triggerSchema.findMany({
    where: { trigger },
    orderBy: { version: "desc" },
    take: Math.min(Math.max(1, Math.trunc(options.limit ?? 100)), 1000),
    select: { version: true, contentHash: true, compatibility: true, changes: true, createdAt: true },
  });
  return rows.map(summary);
}

/** One stored payload schema version of a trigger, or `undefined`. */
export async function getTriggerSchemaVersion(prisma: PrismaClient, trigger: string, version: number): Promise<TriggerSchemaVersionDetail | undefined> {
  if (!Number.isSafeInteger(version) || version < 1 || version > 2_147_483_647) return undefined;
  const row = await prisma.triggerSchema.findFirst({
    where: { trigger, version },
    select: { version: true, contentHash: true, compatibility: true, changes: true, createdAt: true, payloadSchema: true },
  });
  if (row === null) return undefined;
  return { ...summary(row), payload_schema: row.payloadSchema as JsonSchema };
}

/** The versions stored for an action, newest first (at most `limit`, default 100), without the schemas. */
export async function listSchemaVersions(prisma: PrismaClient, action: string, options: { limit?: number } = {}): Promise<SchemaVersionSummary[]> {
  const rows = await prisma.actionSchema.findMany({
    where: { action },
    orderBy: { version: "desc" },
    take: Math.min(Math.max(1, Math.trunc(options.limit ?? 100)), 1000),
    select: { version: true, contentHash: true, compatibility: true, changes: true, createdAt: true },
  });
  return rows.map(summary);
}

/** One stored version with its schemas, or `undefined`. */
export async function getSchemaVersion(prisma: PrismaClient, action: string, version: number): Promise<SchemaVersionDetail | undefined> {
  if (!Number.isSafeInteger(version) || version < 1 || version > 2_147_483_647) return undefined;
  const row = await prisma.actionSchema.findFirst({
    where: { action, version },
    select: { version: true, contentHash: true, compatibility: true, changes: true, createdAt: true, inputSchema: true, outputSchema: true },
  });
  if (row === null) return undefined;
  return { ...summary(row), input_schema: row.inputSchema as JsonSchema, output_schema: row.outputSchema as JsonSchema };
}

function summary(row: { version: number; contentHash: string; compatibility: string | null; changes: unknown; createdAt: Date }): SchemaVersionSummary {
  return {
    version: row.version,
    content_hash: row.contentHash,
    compatibility: row.compatibility as Compatibility | null,
    changes: Array.isArray(row.changes) ? (row.changes as SchemaChange[]) : [],
    created_at: row.createdAt.toISOString(),
  };
}
