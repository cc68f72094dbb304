import type pg from "pg";
import { randomBytes } from "node:crypto";
import { AppError, notFound } from "@nagent/errors";
import { listConnectionEvents, Prisma, recordConnectionTransition, scopeToWorkspace, uuidv7, type ConnectionTransition, type PrismaClient } from "@nagent/db";
import type { Registry } from "@nagent/registry";
import { checkOutboundUrl, type EgressPolicy, type Runner } from "@nagent/runner";
import { CONNECTION_CREDENTIALS, envelopeKeyVersion, isVaultError, maskSecret, type Vault } from "@nagent/vault";
import { toConnectionEventView, toConnectionView, type ConnectionEventView, type ConnectionRow, type ConnectionView } from "./connection-view";

/** A workspace's connections, all integrations together; listing them all stays one page. */
export const MAX_CONNECTIONS_PER_WORKSPACE = 100;

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

/**
 * Integrations whose upstream calls back (Scale AI's task callbacks): their connections get an inbound URL and may
 * take a `callback_auth_key` credential beside the manifest's own fields (Scale's account-level "Live Callback Auth
 * Key", sent as `scale-callback-auth`). It is sealed with the other credentials and never sent upstream.
 */
export const CALLBACK_INTEGRATIONS: ReadonlySet<string> = new Set(["scale_ai"]);
export const CALLBACK_AUTH_KEY = "callback_auth_key";

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
  const { prisma, registry, vault, runner } = deps;

  function authOf(integration: string) {
    const auth = registry.getAuthSpec(integration);
    if (!auth) throw notFound(`Integration ${integration}`);
    return auth;
  }

  function validateCredentials(integration: string, given: unknown): Record<string, string> {
    let credentials = given;
    let callbackAuthKey: unknown;
    if (CALLBACK_INTEGRATIONS.has(integration) && typeof given === "object" && given !== null && CALLBACK_AUTH_KEY in given) {
      callbackAuthKey = (given as Record<string, unknown>)[CALLBACK_AUTH_KEY];
      credentials = Object.fromEntries(Object.entries(given).filter(([k]) => k !== CALLBACK_AUTH_KEY));
      if (typeof callbackAuthKey !== "string" || callbackAuthKey.length < 8 || callbackAuthKey.length > 512) {
        throw new AppError("VALIDATION_FAILED", "credentials.callback_auth_key must be a string of 8 to 512 characters.", {
          details: [{ in: "body", path: `/credentials/${CALLBACK_AUTH_KEY}`, message: "must be a string of 8 to 512 characters", keyword: "maxLength" }],
        });
      }
    }
    const result = registry.validateCredentials(integration, credentials);
    if (!result.valid) {
      throw new AppError("VALIDATION_FAILED", "The credentials do not match what the integration needs.", {
        details: result.errors.map((e) => ({ in: "body", path: `/credentials${e.path}`, message: e.message, keyword: e.keyword })),
      });
    }
    return { ...(credentials as Record<string, string>), ...(typeof callbackAuthKey === "string" ? { [CALLBACK_AUTH_KEY]: callbackAuthKey } : {}) };
  }

  const callbackAuthHint = (credentials: Record<string, string>) => {
    const key = credentials[CALLBACK_AUTH_KEY];
    return key === undefined ? null : maskSecret(key);
  };
  const view = (row: ConnectionRow) => toConnectionView(row, deps.publicUrl);

  function normalizeBaseUrl(raw: string): string {
    const check = checkOutboundUrl(raw, deps.egress);
    if (!check.ok) {
      throw new AppError("VALIDATION_FAILED", `base_url ${check.reason}.`, { details: [{ in: "body", path: "/base_url", message: check.reason, keyword: "egress" }] });
    }
    if (check.url.search || check.url.hash) {
      throw new AppError("VALIDATION_FAILED", "base_url must not have a query or a fragment.", { details: [{ in: "body", path: "/base_url", message: "must not have a query or a fragment", keyword: "format" }] });
    }
    return check.url.toString().replace(/\/+$/, "");
  }

  /** Runs the integration's check request; throws the API error a failed check means. */
  async function checkUpstream(integration: string, credentials: Record<string, string>, baseUrl: string): Promise<void> {
    const result = await runner.check(authOf(integration), credentials, baseUrl);
    if (result.ok) return;
    const { error } = result;
    const details = { upstream_status: error.upstream_status ?? null, upstream_code: error.code, upstream_message: error.message };
    if (error.code === "UPSTREAM_TIMEOUT") throw new AppError("UPSTREAM_TIMEOUT", "The upstream did not answer the credentials check in time.", { details });
    if (error.code === "EGRESS_BLOCKED") throw new AppError("VALIDATION_FAILED", "base_url points at an address this deployment does not allow.", { details: [{ in: "body", path: "/base_url", message: error.message, keyword: "egress" }] });
    if (error.upstream_status === undefined || error.upstream_status >= 500 || error.upstream_status === 429) {
      throw new AppError("UPSTREAM_UNREACHABLE", `The upstream could not check the credentials: ${error.message}`, { details });
    }
    throw new AppError("CONNECTION_TEST_FAILED", `The upstream refused the credentials: ${error.message}`, { details });
  }

  async function seal(workspaceId: string, connectionId: string, credentials: Record<string, string>): Promise<Buffer> {
    await vault.ensureWorkspaceKey(workspaceId);
    return vault.seal(workspaceId, JSON.stringify(credentials), { connectionId, purpose: CONNECTION_CREDENTIALS });
  }

  async function openCredentials(workspaceId: string, row: { id: string; ciphertext: Uint8Array }): Promise<Record<string, string>> {
    let plaintext: Buffer;
    try {
      plaintext = await vault.openLatest(workspaceId, { connectionId: row.id, purpose: CONNECTION_CREDENTIALS }, async () => row.ciphertext);
    } catch (error) {
      if (!isVaultError(error)) throw error;
      // The vault's code says why; its message never holds key material, but keep the API's own wording.
      throw new AppError("CONNECTION_UNREADABLE", "The connection's credentials cannot be opened; replace them (PATCH credentials) or connect again.", { details: { reason: error.code } });
    }
    try {
      return JSON.parse(plaintext.toString("utf8")) as Record<string, string>;
    } finally {
      plaintext.fill(0);
    }
  }

  function hintOf(integration: string, credentials: Record<string, string>): string {
    return maskSecret(credentials[authOf(integration).hint] ?? "");
  }

  async function find(workspaceId: string, id: string): Promise<ConnectionRow> {
    const row = await scopeToWorkspace(prisma, workspaceId).connection.findFirst({ where: { id } });
    if (!row) throw notFound("Connection");
    return row;
  }

  /**
   * Seals the credentials right before the transaction that stores them (crypto stays outside transactions), and
   * seals again if a data-key rotation retired the version between the seal and the insert (`holdKeyVersion`
   * returned null), so a stored envelope never names a deleted key.
   */
  async function withSealed<T>(workspaceId: string, connectionId: string, credentials: Record<string, string>, store: (ciphertext: Buffer) => Promise<T | null>): Promise<T> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await store(await seal(workspaceId, connectionId, credentials));
      if (stored !== null) return stored;
    }
    throw new AppError("CONFLICT", "The workspace's keys are being rotated; try again.");
  }

  /** Every status change goes through recordConnectionTransition: one event per real change. */
  async function transition(workspaceId: string, id: string, to: "active" | "invalid", reason: string): Promise<void> {
    const t = await recordConnectionTransition(deps.pool, { workspaceId, connectionId: id, to, reason });
    if (t) deps.onTransition?.(t);
  }

  const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";

  return {
    async create(workspaceId: string, input: CreateConnection): Promise<ConnectionView> {
      authOf(input.integration);
      const credentials = validateCredentials(input.integration, input.credentials);
      // A connection records the upstream it calls: the one given, or the deployment's default at creation time.
      const baseUrl = normalizeBaseUrl(input.base_url ?? deps.defaultBaseUrl(input.integration));
      const db = scopeToWorkspace(prisma, workspaceId);
      const name = input.name?.trim() || (await nextDefaultName(db, input.integration));
      if (await db.connection.findFirst({ where: { integration: input.integration, name }, select: { id: true } })) {
        throw new AppError("NAME_TAKEN", `A connection named "${name}" already exists for ${input.integration}.`);
      }
      if ((await db.connection.count({})) >= MAX_CONNECTIONS_PER_WORKSPACE) {
        throw new AppError("CONFLICT", `A workspace holds at most ${MAX_CONNECTIONS_PER_WORKSPACE} connections.`);
      }
      await checkUpstream(input.integration, credentials, baseUrl);
      const id = uuidv7();
      try {
        const row = await withSealed(workspaceId, id, credentials, (ciphertext) => db.$transaction(async (tx) => {
          if (!(await holdKeyVersion(tx, workspaceId, ciphertext))) return null;
          await lockDefaults(tx, workspaceId, input.integration);
          const hasDefault = await tx.connection.findFirst({ where: { integration: input.integration, isDefault: true }, select: { id: true } });
          return tx.connection.create({
            data: {
              id, workspaceId, integration: input.integration, name, isDefault: !hasDefault, status: "active",
              ciphertext: new Uint8Array(ciphertext), credentialHint: hintOf(input.integration, credentials), baseUrl, lastVerifiedAt: new Date(),
              callbackAuthHint: callbackAuthHint(credentials), eventsMode: input.events ?? "callback", pollCursor: input.events === "poll" ? new Date() : null,
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

    async list(workspaceId: string, filter: { integration?: string | undefined } = {}): Promise<ConnectionView[]> {
      const rows = await scopeToWorkspace(prisma, workspaceId).connection.findMany({
        where: filter.integration ? { integration: filter.integration } : {},
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: MAX_CONNECTIONS_PER_WORKSPACE,
      });
      return rows.map(view);
    },

    async get(workspaceId: string, id: string): Promise<ConnectionView> {
      return view(await find(workspaceId, id));
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
      const newBaseUrl = patch.base_url === undefined ? current.baseUrl : normalizeBaseUrl(patch.base_url ?? deps.defaultBaseUrl(current.integration));
      if (patch.credentials !== undefined || newBaseUrl !== current.baseUrl) {
        const credentials = patch.credentials !== undefined ? validateCredentials(current.integration, patch.credentials) : await openCredentials(workspaceId, current);
        await checkUpstream(current.integration, credentials, newBaseUrl ?? deps.defaultBaseUrl(current.integration));
        if (patch.credentials !== undefined) {
          newCredentials = credentials;
          data.credentialHint = hintOf(current.integration, credentials);
          data.callbackAuthHint = callbackAuthHint(credentials);
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
        const row = newCredentials ? await withSealed(workspaceId, id, newCredentials, write) : await write(null);
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
      const credentials = await openCredentials(workspaceId, row);
      const result = await runner.check(authOf(row.integration), credentials, row.baseUrl ?? deps.defaultBaseUrl(row.integration));
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

    /** The connection's status transitions, newest first (keyset cursor). */
    async events(workspaceId: string, id: string, query: { limit?: number | undefined; cursor?: string | undefined }): Promise<{ events: ConnectionEventView[]; next_cursor: string | null }> {
      await find(workspaceId, id);
      const limit = query.limit ?? 50;
      const before = query.cursor === undefined ? undefined : decodeEventCursor(query.cursor);
      const rows = await listConnectionEvents(deps.pool, workspaceId, id, { limit: limit + 1, before });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return { events: page.map(toConnectionEventView), next_cursor: rows.length > limit && last ? encodeEventCursor(last.created_at, last.id) : null };
    },

    /** The connection a run uses: the given one, or the workspace's default for the integration. */
    async resolveForRun(workspaceId: string, integration: string, connectionId: string | undefined): Promise<{ id: string }> {
      // Every execute runs this: a prepared statement on the pool rather than the ORM (see README).
      const { rows } = await deps.pool.query<{ id: string; integration: string; status: string }>(connectionId
        ? { name: "resolve-connection-by-id", text: "SELECT id, integration, status FROM connection WHERE workspace_id = $1 AND id = $2", values: [workspaceId, connectionId] }
        : { name: "resolve-default-connection", text: "SELECT id, integration, status FROM connection WHERE workspace_id = $1 AND integration = $2 AND is_default", values: [workspaceId, integration] });
      const row = rows[0];
      if (!row) {
        if (connectionId) throw notFound("Connection");
        throw new AppError("CONNECTION_REQUIRED", `The workspace has no ${integration} connection; create one (POST /v1/connections) or pass connection_id.`);
      }
      if (row.integration !== integration) {
        throw new AppError("VALIDATION_FAILED", `The connection belongs to ${row.integration}, not ${integration}.`, { details: [{ in: "body", path: "/connection_id", message: `must be a ${integration} connection`, keyword: "integration" }] });
      }
      if (row.status === "invalid") {
        throw new AppError("CONNECTION_INVALID", "The connection is invalid: the upstream rejected its credentials. Replace them (PATCH /v1/connections/:id with new credentials) or, if the key works again, test it (POST /v1/connections/:id/test); GET /v1/connections/:id/events says why.");
      }
      return { id: row.id };
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;

const encodeEventCursor = (createdAt: Date, id: string) => Buffer.from(`${createdAt.toISOString()}|${id}`).toString("base64url");
function decodeEventCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new AppError("INVALID_CURSOR", "The cursor is not one this API issued; start again without it.");
  }
  return { createdAt, id };
}

type Tx = Parameters<Parameters<ReturnType<typeof scopeToWorkspace>["$transaction"]>[0]>[0];

/** Serialises changes to one (workspace, integration)'s default flag, so there is never more than one default. */
async function lockDefaults(tx: Tx, workspaceId: string, integration: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`connection-default:${workspaceId}:${integration}`}, 0))`;
}

/**
 * Holds the data-key version an envelope names (FOR KEY SHARE) until the transaction commits, so a concurrent
 * rotation cannot delete it under the row being written; false when that version is already gone.
 */
async function holdKeyVersion(tx: Tx, workspaceId: string, ciphertext: Buffer): Promise<boolean> {
  const version = envelopeKeyVersion(ciphertext);
  const rows = await tx.$queryRaw<unknown[]>`SELECT 1 FROM workspace_key WHERE workspace_id = ${workspaceId}::uuid AND version = ${version} FOR KEY SHARE`;
  return rows.length > 0;
}

async function nextDefaultName(db: ReturnType<typeof scopeToWorkspace>, integration: string): Promise<string> {
  const taken = new Set((await db.connection.findMany({ where: { integration }, select: { name: true } })).map((c) => c.name));
  for (let n = 1; ; n++) {
    const name = n === 1 ? integration : `${integration}-${n}`;
    if (!taken.has(name)) return name;
  }
}
