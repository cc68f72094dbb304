-- Runs of actions and their attempts (the execution API).

-- CreateTable
CREATE TABLE "run" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "connection_id" UUID,
    "integration" VARCHAR(64) NOT NULL,
    "action" VARCHAR(128) NOT NULL,
    "schema_version" INTEGER NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "status_reason" VARCHAR(300),
    "input" JSONB NOT NULL,
    "input_truncated" BOOLEAN NOT NULL DEFAULT false,
    "output" JSONB,
    "output_truncated" BOOLEAN NOT NULL DEFAULT false,
    "error_code" VARCHAR(64),
    "idempotency_key" VARCHAR(255),
    "request_hash" VARCHAR(64),
    "attempts_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),

    CONSTRAINT "run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "run_attempt" (
    "run_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),
    "outcome" VARCHAR(16),
    "upstream_status" INTEGER,
    "latency_ms" INTEGER,
    "error_code" VARCHAR(64),
    "error_message" VARCHAR(1000),
    "retry_delay_ms" INTEGER,

    CONSTRAINT "run_attempt_pkey" PRIMARY KEY ("run_id","number")
);

-- CreateIndex
CREATE UNIQUE INDEX "run_workspace_id_idempotency_key_key" ON "run"("workspace_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "run_workspace_id_created_at_id_idx" ON "run"("workspace_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "run_status_updated_at_idx" ON "run"("status", "updated_at");

-- AddForeignKey
ALTER TABLE "run" ADD CONSTRAINT "run_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_attempt" ADD CONSTRAINT "run_attempt_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
