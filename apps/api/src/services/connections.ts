import type pg from "pg";
import { randomBytes } from "node:crypto";
import { AppError, notFound } from "@nagent/errors";
import { Prisma, recordConnectionTransition, scopeToWorkspace, uuidv7, type ConnectionTransition, type PrismaClient } from "@nagent/db";
import type { Registry } from "@nagent/registry";
import type { EgressPolicy, Runner } from "@nagent/runner";
import type { Vault } from "@nagent/vault";
import { CALLBACK_INTEGRATIONS, createConnectionCredentials, holdKeyVersion, type ScopedTx } from "./connection-credentials";
import { createConnectionReads, MAX_CONNECTIONS_PER_WORKSPACE } from "./connection-reads";
import type { ConnectionView } from "./connection-view";

// The service's parts live beside it (credentials in connection-credentials.ts, reads in connection-reads.ts);
// their names stay exported from here, where the rest of the API takes them.
export { CALLBACK_AUTH_KEY, CALLBACK_INTEGRATIONS } from "./connection-credentials";
export { MAX_CONNECTIONS_PER_WORKSPACE } from "./connection-reads";

export interface ConnectionServiceDeps {
  readonly prisma: PrismaClient;
  readonly pool: pg.Pool;
  readonly registry: Registry;
  readonly vault: Vault;
  readonly runner: Runner;
  readonly egress: EgressPolicy;
  /** The upstream a new connection uses when it names no base_url (NAGENT_SCALE_BASE_URL for Scale AI). */
  readonly defaultBaseUrl: (integration: string) => string;
  /** The platform's public origin (inbound callback URLs). */
  readonly publicUrl: string;
  /** Called after each status transition the API records (metrics, and the NAGENT_CONNECTION_STATUS_CHANGED event: see compose.ts). */
  readonly onTransition?: (t: ConnectionTransition) => void;
}

export interface CreateConnection {
  readonly integration: string;
  readonly name?: string | undefined;
  readonly credentials: Record<string, unknown>;
  readonly base_url?: string | undefined;
  readonly events?: "callback" | "poll" | undefined;
}

export interface UpdateConnection {
  readonly name?: string | undefined;
  readonly is_default?: boolean | undefined;
  readonly credentials?: Record<string, unknown> | undefined;
  readonly base_url?: string | null | undefined;
  readonly events?: "callback" | "poll" | undefined;
  /** Bounds of the connection's adaptive pacing; null (or a null bound) gives it back to the deployment's. */
  readonly rate_limit?: { readonly min_rps?: number | null | undefined; readonly max_rps?: number | null | undefined } | null | undefined;
}

export interface TestResult {
  readonly successful: boolean;
  readonly error: { code: string; message: string; upstream_status?: number } | null;
  readonly latency_ms: number;
}

/**
 * Connections: a workspace connects an integration once and every agent reuses it. Credentials are checked against
 * the upstream before they are stored, stored only as a vault envelope bound to (workspace, connection, purpose),
 * and never returned; people see `credential_hint`. Every query is scoped to the workspace.
 */
export function createConnectionService(deps: ConnectionServiceDeps) {
  const { prisma, runner } = deps;
  const creds = createConnectionCredentials(deps);
  const reads = createConnectionReads(deps);
  const { view, find } = reads;

  /** Every status change goes through recordConnectionTransition: one event per real change. */
  async function transition(workspaceId: string, id: string, to: "active" | "invalid", reason: string): Promise<void> {
    const t = await recordConnectionTransition(deps.pool, { workspaceId, connectionId: id, to, reason });
    if (t) deps.onTransition?.(t);
  }

  const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";

  return {
    async create(workspaceId: string, input: CreateConnection): Promise<ConnectionView> {
      creds.authOf(input.integration);
      const credentials = creds.validate(input.integration, input.credentials);
      // A connection records the upstream it calls: the one given, or the deployment's default at creation time.
      const baseUrl = creds.normalizeBaseUrl(input.base_url ?? deps.defaultBaseUrl(input.integration));
      const db = scopeToWorkspace(prisma, workspaceId);
      const name = input.name?.trim() || (await nextDefaultName(db, input.integration));
      if (await db.connection.findFirst({ where: { integration: input.integration, name }, select: { id: true } })) {
        throw new AppError("NAME_TAKEN", `A connection named "${name}" already exists for ${input.integration}.`);
      }
      if ((await db.connection.count({})) >= MAX_CONNECTIONS_PER_WORKSPACE) {
        throw new AppError("CONFLICT", `A workspace holds at most ${MAX_CONNECTIONS_PER_WORKSPACE} connections.`);
      }
      await creds.checkUpstream(input.integration, credentials, baseUrl);
      const id = uuidv7();
      try {
        const row = await creds.withSealed(workspaceId, id, credentials, (ciphertext) => db.$transaction(async (tx) => {
          if (!(await holdKeyVersion(tx, workspaceId, ciphertext))) return null;
          await lockDefaults(tx, workspaceId, input.integration);
          const hasDefault = await tx.connection.findFirst({ where: { integration: input.integration, isDefault: true }, select: { id: true } });
          return tx.connection.create({
            data: {
              id, workspaceId, integration: input.integration, name, isDefault: !hasDefault, status: "active",
              ciphertext: new Uint8Array(ciphertext), credentialHint: creds.hintOf(input.integration, credentials), baseUrl, lastVerifiedAt: new Date(),
              callbackAuthHint: creds.callbackAuthHint(credentials), eventsMode: input.events ?? "callback", pollCursor: input.events === "poll" ? new Date() : null,
              // 32 random bytes: the inbound URL cannot be guessed (the callback auth key still authenticates each call).
              inboundToken: CALLBACK_INTEGRATIONS.has(input.integration) ? randomBytes(32).toString("base64url") : null,
            },
          });
        }));
        return view(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError("NAME_TAKEN", `A connection named "${name}" already exists for ${input.integration}.`);
        throw error;
      }
    },

    /** Renames, sets default, or replaces credentials / base URL (tested again before anything is stored). */
    async update(workspaceId: string, id: string, patch: UpdateConnection): Promise<ConnectionView> {
      const current = await find(workspaceId, id);
      const db = scopeToWorkspace(prisma, workspaceId);
      const data: Prisma.ConnectionUncheckedUpdateInput = { updatedAt: new Date() };
      let newCredentials: Record<string, string> | null = null;
      if (patch.name !== undefined && patch.name.trim() !== current.name) data.name = patch.name.trim();
      if (patch.events !== undefined && patch.events !== current.eventsMode) {
        data.eventsMode = patch.events;
        // Polling starts from now, not from the connection's creation.
        if (patch.events === "poll") data.pollCursor = new Date();
      }
      // null puts the connection back on the deployment's default upstream.
      const newBaseUrl = patch.base_url === undefined ? current.baseUrl : creds.normalizeBaseUrl(patch.base_url ?? deps.defaultBaseUrl(current.integration));
      if (patch.credentials !== undefined || newBaseUrl !== current.baseUrl) {
        const credentials = patch.credentials !== undefined ? creds.validate(current.integration, patch.credentials) : await creds.open(workspaceId, current);
        await creds.checkUpstream(current.integration, credentials, newBaseUrl ?? deps.defaultBaseUrl(current.integration));
        if (patch.credentials !== undefined) {
          newCredentials = credentials;
          data.credentialHint = creds.hintOf(current.integration, credentials);
          data.callbackAuthHint = creds.callbackAuthHint(credentials);
        }
        Object.assign(data, { baseUrl: newBaseUrl, lastVerifiedAt: new Date(), lastError: null });
      }
      if (patch.rate_limit !== undefined) {
        const min = patch.rate_limit?.min_rps ?? null;
        const max = patch.rate_limit?.max_rps ?? null;
        if (min !== null && max !== null && min > max) {
          throw new AppError("VALIDATION_FAILED", "rate_limit.min_rps must not exceed rate_limit.max_rps.", { details: [{ in: "body", path: "/rate_limit/min_rps", message: "must be ≤ max_rps", keyword: "maximum" }] });
        }
        Object.assign(data, { rateMinRps: min, rateMaxRps: max });
      }
      const write = (ciphertext: Buffer | null) => db.$transaction(async (tx) => {
          if (ciphertext) {
            if (!(await holdKeyVersion(tx, workspaceId, ciphertext))) return null;
            data.ciphertext = new Uint8Array(ciphertext);
          }
          if (patch.is_default === true && !current.isDefault) {
            await lockDefaults(tx, workspaceId, current.integration);
            await tx.connection.updateMany({ where: { integration: current.integration, isDefault: true }, data: { isDefault: false } });
            data.isDefault = true;
          } else if (patch.is_default === false && current.isDefault) {
            data.isDefault = false;
          }
          return tx.connection.update({ where: { id }, data });
        });
      try {
        const row = newCredentials ? await creds.withSealed(workspaceId, id, newCredentials, write) : await write(null);
        if (!row) throw new Error("unreachable: an update without new credentials always writes");
        // Checked credentials (new ones, or the old ones at a new base_url) make the connection active again.
        if (data.lastVerifiedAt && row.status !== "active") {
          await transition(workspaceId, id, "active", patch.credentials !== undefined ? "credentials replaced and checked" : "base_url changed and the credentials checked");
          return view(await find(workspaceId, id));
        }
        return view(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError("NAME_TAKEN", `A connection named "${String(data.name)}" already exists for ${current.integration}.`);
        throw error;
      }
    },

    /** Deletes the connection and its ciphertext; a deleted default hands over to the newest other connection. */
    async remove(workspaceId: string, id: string): Promise<void> {
      await scopeToWorkspace(prisma, workspaceId).$transaction(async (tx) => {
        const row = await tx.connection.findFirst({ where: { id }, select: { id: true, integration: true, isDefault: true } });
        if (!row) throw notFound("Connection");
        await lockDefaults(tx, workspaceId, row.integration);
        await tx.connection.delete({ where: { id } });
        if (row.isDefault) {
          const next = await tx.connection.findFirst({ where: { integration: row.integration }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true } });
          if (next) await tx.connection.update({ where: { id: next.id }, data: { isDefault: true } });
        }
      });
    },

    /** Checks the stored credentials against the upstream now; a refusal marks the connection invalid. */
    async test(workspaceId: string, id: string): Promise<{ connection: ConnectionView; test: TestResult }> {
      const row = await find(workspaceId, id);
      const credentials = await creds.open(workspaceId, row);
      const result = await runner.check(creds.authOf(row.integration), credentials, row.baseUrl ?? deps.defaultBaseUrl(row.integration));
      const db = scopeToWorkspace(prisma, workspaceId);
      if (result.ok) {
        await transition(workspaceId, id, "active", "a connection test succeeded");
        const updated = await db.connection.update({ where: { id }, data: { lastVerifiedAt: new Date(), lastError: null, updatedAt: new Date() } });
        return { connection: view(updated), test: { successful: true, error: null, latency_ms: result.latencyMs } };
      }
      const { error } = result;
      const rejected = error.upstream_status === 401 || error.upstream_status === 403;
      if (rejected) await transition(workspaceId, id, "invalid", `a connection test was refused (${error.upstream_status}): ${error.message}`);
      const updated = await db.connection.update({
        where: { id },
        data: { lastError: error.message.slice(0, 1000), updatedAt: new Date() },
      });
      const testError = { code: error.code, message: error.message, ...(error.upstream_status === undefined ? {} : { upstream_status: error.upstream_status }) };
      return { connection: view(updated), test: { successful: false, error: testError, latency_ms: result.latencyMs } };
    },

    list: reads.list,
    get: reads.get,
    events: reads.events,
    resolveForRun: reads.resolveForRun,
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;

/** Serialises changes to one (workspace, integration)'s default flag, so there is never more than one default. */
async function lockDefaults(tx: ScopedTx, workspaceId: string, integration: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`connection-default:${workspaceId}:${integration}`}, 0))`;
}

async function nextDefaultName(db: ReturnType<typeof scopeToWorkspace>, integration: string): Promise<string> {
  const taken = new Set((await db.connection.findMany({ where: { integration }, select: { name: true } })).map((c) => c.name));
  for (let n = 1; ; n++) {
    const name = n === 1 ? integration : `${integration}-${n}`;
    if (!taken.has(name)) return name;
  }
}
