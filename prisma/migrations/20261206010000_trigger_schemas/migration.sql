-- The schema registry for triggers: every distinct payload schema of every trigger, numbered per trigger.

-- CreateTable
CREATE TABLE "trigger_schema" (
    "id" UUID NOT NULL,
    "integration" VARCHAR(64) NOT NULL,
    "trigger" VARCHAR(128) NOT NULL,
    "version" INTEGER NOT NULL,
    "content_hash" VARCHAR(64) NOT NULL,
    "payload_schema" JSONB NOT NULL,
    "compatibility" VARCHAR(16),
    "changes" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "trigger_schema_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "trigger_schema_integration_trigger_version_key" ON "trigger_schema"("integration", "trigger", "version");

-- CreateIndex
CREATE INDEX "trigger_schema_integration_trigger_content_hash_idx" ON "trigger_schema"("integration", "trigger", "content_hash");
