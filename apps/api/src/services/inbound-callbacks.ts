import { readConnectionCiphertext } from "@nagent/db";
import type pg from "pg";
import { createHash, timingSafeEqual } from "node:crypto";
import { AppError, notFound } from "@nagent/errors";
import type { Registry } from "@nagent/registry";
import { CONNECTION_CREDENTIALS, type Vault } from "@nagent/vault";
import { emitEvents, eventsOfTask, type DeliveryProducer } from "@nagent/triggers";
import { CALLBACK_AUTH_KEY } from "./connections";

export interface InboundConnection {
  readonly id: string;
  readonly workspaceId: string;
  readonly integration: string;
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * Inbound callbacks (Scale AI's task callbacks): find the connection by its URL token, check `scale-callback-auth`
 * against the key sealed with its credentials (constant time), store the events the callback implies (deduplicated)
 * and only then answer; deliveries are enqueued after the commit.
 */
export function createInboundCallbackService(deps: { pool: pg.Pool; registry: Registry; vault: Vault; producer: DeliveryProducer; logger: { warn(o: object, m: string): void; info(o: object, m: string): void };
  /** Called per event stored (metrics; best effort). */
  onEvent?: (trigger: string, source: string) => void }) {
  return {
    /** The connection the token names, if its callback auth key matches `given`; else 401 (404 for an unknown token). */
    async authenticate(integration: string, token: string, given: string | undefined): Promise<InboundConnection> {
      const { rows: [row] } = await deps.pool.query<{ id: string; workspace_id: string; integration: string; ciphertext: Buffer }>(
        `SELECT id, workspace_id, integration, ciphertext FROM connection WHERE inbound_token = $1 AND integration = $2`, [token, integration]);
      if (!row) throw notFound("Inbound URL");
      let expected: string | undefined;
      try {
        const plain = await deps.vault.openLatest(row.workspace_id, { connectionId: row.id, purpose: CONNECTION_CREDENTIALS }, row.ciphertext, () => readConnectionCiphertext(deps.pool, row.workspace_id, row.id));
        try {
          expected = (JSON.parse(plain.toString("utf8")) as Record<string, string>)[CALLBACK_AUTH_KEY];
        } finally {
          plain.fill(0);
        }
      } catch {
        deps.logger.warn({ connectionId: row.id }, "inbound callback refused: the connection's credentials cannot be opened");
      }
      // Compare digests: equal length, so timingSafeEqual reveals nothing about the key, not even its length.
      const ok = expected !== undefined && given !== undefined && timingSafeEqual(digest(expected), digest(given));
      if (!ok) {
        deps.logger.warn({ connectionId: row.id, reason: expected === undefined ? "no callback auth key configured" : given === undefined ? "header missing" : "wrong key" }, "inbound callback refused");
        throw new AppError("UNAUTHORIZED", "The callback's scale-callback-auth header does not match the connection's callback auth key.");
      }
      return { id: row.id, workspaceId: row.workspace_id, integration: row.integration };
    },

    /** Stores the events of a Scale callback `{task, response, task_id}`; returns how many were new and duplicates. */
    async receiveScale(connection: InboundConnection, body: { task_id: string; task: Record<string, unknown>; response?: unknown }): Promise<{ events: number; duplicates: number }> {
      const taskId = body.task["task_id"] ?? body.task["id"];
      if (taskId !== undefined && taskId !== body.task_id) {
        throw new AppError("VALIDATION_FAILED", "task_id does not match task.task_id.", { details: [{ in: "body", path: "/task_id", message: "must equal task.task_id", keyword: "const" }] });
      }
      const events = eventsOfTask({ task_id: body.task_id, ...body.task }, body.response, "callback");
      if (events.length === 0) {
        deps.logger.info({ connectionId: connection.id, taskId: body.task_id, status: String(body.task["status"]).slice(0, 32) }, "inbound callback implies no trigger event");
        return { events: 0, duplicates: 0 };
      }
      const emitted = await emitEvents(deps.pool, deps.registry, events.map((e) => ({ ...e, workspaceId: connection.workspaceId, connectionId: connection.id, source: "callback" as const })));
      const jobs = emitted.flatMap((e) => e.deliveries.map((d) => ({ ...d, attempt: 1 })));
      await deps.producer.enqueue(jobs).catch((error: Error) => deps.logger.warn({ err: { message: error.message } }, "could not enqueue deliveries; the sweeper will"));
      emitted.forEach((e, i) => e.created && deps.onEvent?.(events[i]!.trigger, "callback"));
      const created = emitted.filter((e) => e.created).length;
      return { events: created, duplicates: emitted.length - created };
    },
  };
}

export type InboundCallbackService = ReturnType<typeof createInboundCallbackService>;
