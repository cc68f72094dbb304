import type { PrismaClient } from "@nagent/db";
import { classifyActionChange, classifyTriggerChange, type Compatibility, type SchemaChange } from "./compatibility";
import type { Registry } from "./registry";
import type { JsonSchema } from "./types";
import { syncVersions, type VersionTable } from "./version-sync";

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

/** The columns the sync reads of every stored version, besides its action or trigger. */
const STORED_FIELDS = { id: true, integration: true, version: true, contentHash: true } as const;

type ActionSchemas = { input: JsonSchema; output: JsonSchema };

/** action_schema: an action's (input, output) pair. */
const ACTION_SCHEMA_TABLE: VersionTable<ActionSchemas> = {
  lockKey: "nagent:action_schema:sync",
  stored: async (tx, integrations) =>
    (await tx.actionSchema.findMany({ where: { integration: { in: integrations } }, select: { ...STORED_FIELDS, action: true } }))
      .map(({ action, ...row }) => ({ ...row, slug: action })),
  contents: async (tx, ids) =>
    (await tx.actionSchema.findMany({ where: { id: { in: ids } }, select: { integration: true, action: true, inputSchema: true, outputSchema: true } }))
      .map((r) => ({ integration: r.integration, slug: r.action, content: { input: r.inputSchema as JsonSchema, output: r.outputSchema as JsonSchema } })),
  classify: classifyActionChange,
  insert: (tx, rows) =>
    tx.actionSchema.createMany({
      data: rows.map(({ slug, content, ...row }) => ({ ...row, action: slug, inputSchema: content.input as object, outputSchema: content.output as object })),
    }),
};

/** trigger_schema: a trigger's payload schema, classified from the subscribers' side (`classifyTriggerChange`). */
const TRIGGER_SCHEMA_TABLE: VersionTable<JsonSchema> = {
  lockKey: "nagent:trigger_schema:sync",
  stored: async (tx, integrations) =>
    (await tx.triggerSchema.findMany({ where: { integration: { in: integrations } }, select: { ...STORED_FIELDS, trigger: true } }))
      .map(({ trigger, ...row }) => ({ ...row, slug: trigger })),
  contents: async (tx, ids) =>
    (await tx.triggerSchema.findMany({ where: { id: { in: ids } }, select: { integration: true, trigger: true, payloadSchema: true } }))
      .map((r) => ({ integration: r.integration, slug: r.trigger, content: r.payloadSchema as JsonSchema })),
  classify: classifyTriggerChange,
  insert: (tx, rows) => tx.triggerSchema.createMany({ data: rows.map(({ slug, content, ...row }) => ({ ...row, trigger: slug, payloadSchema: content as object })) }),
};

/**
 * Stores each action's bundled (input, output) schemas as a numbered version under the SHA-256 of their canonical
 * JSON (`syncVersions`: content an action already had keeps its version; new content adds the next one, with its
 * `compatibility` and list of `changes` against the highest stored one). Afterwards `registry.getAction(slug)
 * .schema_version` is the current version. Trigger payload schemas are synced the same way right after
 * (`syncTriggerSchemaVersions`); the result lists the actions only.
 */
export async function syncSchemaVersions(prisma: PrismaClient, registry: Registry): Promise<SyncedAction[]> {
  const entries = registry.versionedSchemas().map((e) => ({ integration: e.integration, slug: e.action, contentHash: e.contentHash, content: { input: e.input, output: e.output } }));
  const synced = await syncVersions(prisma, entries, ACTION_SCHEMA_TABLE);
  for (const s of synced) registry.setSchemaVersion(s.slug, s.version);
  await syncTriggerSchemaVersions(prisma, registry);
  return synced.map(({ slug, ...s }) => ({ ...s, action: slug }));
}

/**
 * `syncSchemaVersions` for trigger payload schemas, stored in `trigger_schema`. Afterwards
 * `registry.getTrigger(slug).schema_version` is the current version.
 */
export async function syncTriggerSchemaVersions(prisma: PrismaClient, registry: Registry): Promise<SyncedTrigger[]> {
  const entries = registry.versionedTriggerSchemas().map((e) => ({ integration: e.integration, slug: e.trigger, contentHash: e.contentHash, content: e.payload }));
  const synced = await syncVersions(prisma, entries, TRIGGER_SCHEMA_TABLE);
  for (const s of synced) registry.setTriggerSchemaVersion(s.slug, s.version);
  return synced.map(({ slug, ...s }) => ({ ...s, trigger: slug }));
}

/** The payload schema versions stored for a trigger, newest first (at most `limit`, default 100), without the schemas. */
export async function listTriggerSchemaVersions(prisma: PrismaClient, trigger: string, options: { limit?: number } = {}): Promise<SchemaVersionSummary[]> {
  return (await prisma.triggerSchema.findMany({ where: { trigger }, ...newestSummaries(options.limit) })).map(summary);
}

/** One stored payload schema version of a trigger, or `undefined`. */
export async function getTriggerSchemaVersion(prisma: PrismaClient, trigger: string, version: number): Promise<TriggerSchemaVersionDetail | undefined> {
  if (!isStorableVersion(version)) return undefined;
  const row = await prisma.triggerSchema.findFirst({ where: { trigger, version }, select: { ...SUMMARY_FIELDS, payloadSchema: true } });
  return row === null ? undefined : { ...summary(row), payload_schema: row.payloadSchema as JsonSchema };
}

/** The versions stored for an action, newest first (at most `limit`, default 100), without the schemas. */
export async function listSchemaVersions(prisma: PrismaClient, action: string, options: { limit?: number } = {}): Promise<SchemaVersionSummary[]> {
  return (await prisma.actionSchema.findMany({ where: { action }, ...newestSummaries(options.limit) })).map(summary);
}

/** One stored version with its schemas, or `undefined`. */
export async function getSchemaVersion(prisma: PrismaClient, action: string, version: number): Promise<SchemaVersionDetail | undefined> {
  if (!isStorableVersion(version)) return undefined;
  const row = await prisma.actionSchema.findFirst({ where: { action, version }, select: { ...SUMMARY_FIELDS, inputSchema: true, outputSchema: true } });
  return row === null ? undefined : { ...summary(row), input_schema: row.inputSchema as JsonSchema, output_schema: row.outputSchema as JsonSchema };
}

/** The columns of a version's summary (`summary`). */
const SUMMARY_FIELDS = { version: true, contentHash: true, compatibility: true, changes: true, createdAt: true } as const;

/** The findMany arguments of a version list: newest first, summaries only, `limit` (default 100) within 1–1000. */
function newestSummaries(limit: number | undefined) {
  return { orderBy: { version: "desc" }, take: Math.min(Math.max(1, Math.trunc(limit ?? 100)), 1000), select: SUMMARY_FIELDS } as const;
}

/** Whether `version` can name a stored version (a positive PostgreSQL integer); any other number finds none. */
function isStorableVersion(version: number): boolean {
  return Number.isSafeInteger(version) && version >= 1 && version <= 2_147_483_647;
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
