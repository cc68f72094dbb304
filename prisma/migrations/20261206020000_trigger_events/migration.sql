-- Triggers (issue 12): subscriptions, events, deliveries and their attempts; inbound callbacks on connections.
--
-- An event is stored once per (workspace, dedup_key): Scale's retries of one callback, and polling that sees the same
-- task change, collapse on the unique index (INSERT … ON CONFLICT DO NOTHING). Each event gets one delivery per
-- matching subscription, written in the same transaction; the delivery's id is the stable `webhook-id`.
-- Subscription signing secrets are vault envelopes (purpose "trigger.signing_secret"), never plaintext.

-- AlterTable
ALTER TABLE "connection" ADD COLUMN "inbound_token" VARCHAR(64),
ADD COLUMN "events_mode" VARCHAR(16) NOT NULL DEFAULT 'callback',
ADD COLUMN "poll_cursor" TIMESTAMPTZ(3),
ADD COLUMN "callback_auth_hint" VARCHAR(64);

-- CreateIndex
CREATE UNIQUE INDEX "connection_inbound_token_key" ON "connection"("inbound_token");

-- CreateTable
CREATE TABLE "trigger_subscription" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "trigger" VARCHAR(128) NOT NULL,
    "connection_id" UUID,
    "filter" JSONB NOT NULL DEFAULT '{}',
    "target_url" VARCHAR(2048) NOT NULL,
    "status" VARCHAR(16) NOT NULL DEFAULT 'active',
    "disabled_reason" VARCHAR(1000),
    "secret_ciphertext" BYTEA NOT NULL,
    "previous_secret_ciphertext" BYTEA,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "secret_hint" VARCHAR(64) NOT NULL,
    "last_success_at" TIMESTAMPTZ(3),
    "failing_since" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trigger_subscription_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trigger_event" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "trigger" VARCHAR(128) NOT NULL,
    "connection_id" UUID,
    "dedup_key" VARCHAR(512) NOT NULL,
    "source" VARCHAR(16) NOT NULL,
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trigger_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trigger_delivery" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "subscription_id" UUID NOT NULL,
    "status" VARCHAR(16) NOT NULL DEFAULT 'pending',
    "attempts_count" INTEGER NOT NULL DEFAULT 0,
    "retry_index" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_attempt_at" TIMESTAMPTZ(3),
    "succeeded_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trigger_delivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trigger_delivery_attempt" (
    "delivery_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "response_status" INTEGER,
    "latency_ms" INTEGER NOT NULL,
    "response_excerpt" VARCHAR(1024),
    "error" VARCHAR(1000),

    CONSTRAINT "trigger_delivery_attempt_pkey" PRIMARY KEY ("delivery_id","number")
);

-- CreateIndex
CREATE INDEX "trigger_subscription_workspace_id_trigger_status_idx" ON "trigger_subscription"("workspace_id", "trigger", "status");

-- CreateIndex
CREATE INDEX "trigger_subscription_workspace_id_created_at_idx" ON "trigger_subscription"("workspace_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "trigger_event_workspace_id_dedup_key_key" ON "trigger_event"("workspace_id", "dedup_key");

-- CreateIndex
CREATE INDEX "trigger_event_workspace_id_created_at_id_idx" ON "trigger_event"("workspace_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "trigger_delivery_event_id_subscription_id_key" ON "trigger_delivery"("event_id", "subscription_id");

-- CreateIndex
CREATE INDEX "trigger_delivery_status_next_attempt_at_idx" ON "trigger_delivery"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "trigger_delivery_subscription_id_idx" ON "trigger_delivery"("subscription_id");

-- AddForeignKey
ALTER TABLE "trigger_subscription" ADD CONSTRAINT "trigger_subscription_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trigger_event" ADD CONSTRAINT "trigger_event_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trigger_delivery" ADD CONSTRAINT "trigger_delivery_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "trigger_event"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trigger_delivery" ADD CONSTRAINT "trigger_delivery_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "trigger_subscription"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trigger_delivery_attempt" ADD CONSTRAINT "trigger_delivery_attempt_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "trigger_delivery"("id") ON DELETE CASCADE ON UPDATE CASCADE;
