import type pg from "pg";
import type { DeliveryProducer } from "./producer";

/**
 * Re-enqueues pending deliveries whose next attempt is overdue by `overdueMs`: their job was lost (the process died
 * between commit and enqueue, or Redis lost it). Enqueueing is idempotent per attempt (job id), so a delivery whose
 * job still exists is left alone.
 */
export function createDeliverySweeper(deps: { pool: pg.Pool; producer: DeliveryProducer; overdueMs: number; batch?: number }) {
  return async function sweepDeliveries(): Promise<{ requeued: number }> {
    const { rows } = await deps.pool.query<{ id: string; workspace_id: string; attempts_count: number }>(
      `SELECT d.id, d.workspace_id, d.attempts_count FROM trigger_delivery d
         JOIN trigger_subscription s ON s.id = d.subscription_id AND s.status = 'active'
        WHERE d.status = 'pending' AND d.next_attempt_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY d.next_attempt_at LIMIT $2`,
      [deps.overdueMs, deps.batch ?? 500]);
    let requeued = 0;
    for (const row of rows) {
      const added = await deps.producer.reenqueue({ deliveryId: row.id, workspaceId: row.workspace_id, attempt: row.attempts_count + 1 });
      if (added === "added") requeued++;
    }
    return { requeued };
  };
}
