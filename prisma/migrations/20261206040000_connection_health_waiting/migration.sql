-- Issue 14 (items 4-6): why a run waits, adaptive pacing limits per connection, connection health with events.
--
-- run.waiting: {reason, since, resume_at} while a queued run waits (rate_limit | workspace_cap | retry_backoff |
-- connection_paused); NULL otherwise (cleared by the claim and by every end).
-- connection.status: active | degraded (recent timeouts/5xx) | invalid (the upstream rejected the credentials).
-- connection.rate_min_rps / rate_max_rps: bounds of the connection's adaptive pacing (NULL = the deployment's).
-- connection.next_probe_at / probe_failures: the health probe's schedule (exponential backoff per connection).
-- connection_event: every status transition, written in the same statement as the status change.

-- AlterTable
ALTER TABLE "run" ADD COLUMN "waiting" JSONB;

-- AlterTable
ALTER TABLE "connection" ADD COLUMN "rate_min_rps" DOUBLE PRECISION,
ADD COLUMN "rate_max_rps" DOUBLE PRECISION,
ADD COLUMN "next_probe_at" TIMESTAMPTZ(3),
ADD COLUMN "probe_failures" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "connection" ADD CONSTRAINT "connection_status_check" CHECK ("status" IN ('active', 'degraded', 'invalid'));

-- CreateTable
CREATE TABLE "connection_event" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "from_status" VARCHAR(16) NOT NULL,
    "to_status" VARCHAR(16) NOT NULL,
    "reason" VARCHAR(1000) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connection_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "connection_event_workspace_id_connection_id_created_at_id_idx" ON "connection_event"("workspace_id", "connection_id", "created_at" DESC, "id" DESC);

-- CreateIndex: the probe's scan (connections not active, due now).
CREATE INDEX "connection_status_next_probe_at_idx" ON "connection"("status", "next_probe_at");

-- AddForeignKey
ALTER TABLE "connection_event" ADD CONSTRAINT "connection_event_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
