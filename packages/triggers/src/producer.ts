import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { TRIGGER_DELIVERIES_QUEUE, TRIGGER_DELIVERY_JOB_NAME, TRIGGER_DELIVERY_JOB_OPTIONS, type TriggerDeliveryJobData } from "@nagent/queue";

/** The BullMQ job id of one attempt of a delivery (BullMQ refuses ':' in custom ids). */
export const deliveryJobId = (deliveryId: string, attempt: number) => `${deliveryId}-${attempt}`;

/**
 * Enqueues delivery attempts. Call only after the delivery rows are committed; a failed enqueue is not an error for
 * the caller (the delivery sweeper enqueues pending deliveries whose job is missing).
 */
export function createDeliveryProducer(deps: { redis: Redis; prefix: string }) {
  const queue = new Queue<TriggerDeliveryJobData>(TRIGGER_DELIVERIES_QUEUE, { connection: deps.redis, prefix: deps.prefix });
  return {
    queue,
    async enqueue(jobs: readonly TriggerDeliveryJobData[], delayMs = 0): Promise<void> {
      if (jobs.length === 0) return;
      await queue.addBulk(jobs.map((data) => ({
        name: TRIGGER_DELIVERY_JOB_NAME, data,
        opts: { ...TRIGGER_DELIVERY_JOB_OPTIONS, jobId: deliveryJobId(data.deliveryId, data.attempt), ...(delayMs > 0 ? { delay: delayMs } : {}) },
      })));
    },
    /** Enqueues the attempt unless its job exists; a job that failed for good is replaced. */
    async reenqueue(data: TriggerDeliveryJobData, delayMs = 0): Promise<"added" | "exists"> {
      const job = await queue.getJob(deliveryJobId(data.deliveryId, data.attempt));
      if (job) {
        const state = await job.getState();
        if (state !== "failed" && state !== "completed" && state !== "unknown") return "exists";
        await job.remove().catch(() => {});
      }
      await queue.add(TRIGGER_DELIVERY_JOB_NAME, data, { ...TRIGGER_DELIVERY_JOB_OPTIONS, jobId: deliveryJobId(data.deliveryId, data.attempt), ...(delayMs > 0 ? { delay: delayMs } : {}) });
      return "added";
    },
    /** Sends the attempt now: a waiting (delayed) job of it is promoted, a missing one added. */
    async sendNow(data: TriggerDeliveryJobData): Promise<void> {
      const job = await queue.getJob(deliveryJobId(data.deliveryId, data.attempt));
      if (job && (await job.getState()) === "delayed") {
        await job.promote().catch(() => {});
        return;
      }
      await this.reenqueue(data);
    },
    async close(): Promise<void> {
      await queue.close();
    },
  };
}

export type DeliveryProducer = ReturnType<typeof createDeliveryProducer>;
