import { AppError, notFound } from "@nagent/errors";
import type pg from "pg";
import { readConnectionCiphertext, type scopeToWorkspace } from "@nagent/db";
import type { Registry } from "@nagent/registry";
import { checkOutboundUrl, type EgressPolicy, type Runner } from "@nagent/runner";
import { CONNECTION_CREDENTIALS, envelopeKeyVersion, isVaultError, maskSecret, type Vault } from "@nagent/vault";

/**
 * Integrations whose upstream calls back (Scale AI's task callbacks): their connections get an inbound URL and may
 * take a `callback_auth_key` credential beside the manifest's own fields (Scale's account-level "Live Callback Auth
 * Key", sent as `scale-callback-auth`). It is sealed with the other credentials and never sent upstream.
 */
export const CALLBACK_INTEGRATIONS: ReadonlySet<string> = new Set(["scale_ai"]);
export const CALLBACK_AUTH_KEY = "callback_auth_key";

/** A transaction on the workspace-scoped client. */
export type ScopedTx = Parameters<Parameters<ReturnType<typeof scopeToWorkspace>["$transaction"]>[0]>[0];

export interface ConnectionCredentialDeps {
  /** Reads the credentials again when a data-key rotation re-sealed them after they were read. */
  readonly pool: pg.Pool;
  readonly registry: Registry;
  readonly vault: Vault;
  readonly runner: Runner;
  readonly egress: EgressPolicy;
}

/**
 * A connection's credentials on their way in and out: checked against the manifest and the upstream, sealed as a
 * vault envelope bound to (workspace, connection, purpose), opened only to check them again; people see hints.
 */
export function createConnectionCredentials(deps: ConnectionCredentialDeps) {
  const { registry, vault, runner } = deps;

  function authOf(integration: string) {
    const auth = registry.getAuthSpec(integration);
    if (!auth) throw notFound(`Integration ${integration}`);
    return auth;
  }

  function validate(integration: string, given: unknown): Record<string, string> {
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

  return {
    authOf,
    validate,
    normalizeBaseUrl,
    checkUpstream,

    /** The masked hint people see in place of the credentials. */
    hintOf(integration: string, credentials: Record<string, string>): string {
      return maskSecret(credentials[authOf(integration).hint] ?? "");
    },

    callbackAuthHint(credentials: Record<string, string>): string | null {
      const key = credentials[CALLBACK_AUTH_KEY];
      return key === undefined ? null : maskSecret(key);
    },

    async open(workspaceId: string, row: { id: string; ciphertext: Uint8Array }): Promise<Record<string, string>> {
      let plaintext: Buffer;
      try {
        plaintext = await vault.openLatest(workspaceId, { connectionId: row.id, purpose: CONNECTION_CREDENTIALS }, row.ciphertext, () => readConnectionCiphertext(deps.pool, workspaceId, row.id));
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
    },

    /**
     * Seals the credentials right before the transaction that stores them (crypto stays outside transactions), and
     * seals again if a data-key rotation retired the version between the seal and the insert (`holdKeyVersion`
     * returned false, `store` null), so a stored envelope never names a deleted key.
     */
    async withSealed<T>(workspaceId: string, connectionId: string, credentials: Record<string, string>, store: (ciphertext: Buffer) => Promise<T | null>): Promise<T> {
      for (let attempt = 0; attempt < 3; attempt++) {
        const stored = await store(await seal(workspaceId, connectionId, credentials));
        if (stored !== null) return stored;
      }
      throw new AppError("CONFLICT", "The workspace's keys are being rotated; try again.");
    },
  };
}

export type ConnectionCredentials = ReturnType<typeof createConnectionCredentials>;

/**
 * Holds the data-key version an envelope names (FOR KEY SHARE) until the transaction commits, so a concurrent
 * rotation cannot delete it under the row being written; false when that version is already gone.
 */
export async function holdKeyVersion(tx: ScopedTx, workspaceId: string, ciphertext: Buffer): Promise<boolean> {
  const version = envelopeKeyVersion(ciphertext);
  const rows = await tx.$queryRaw<unknown[]>`SELECT 1 FROM workspace_key WHERE workspace_id = ${workspaceId}::uuid AND version = ${version} FOR KEY SHARE`;
  return rows.length > 0;
}
