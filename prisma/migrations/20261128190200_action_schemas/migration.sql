-- The schema registry: every distinct input/output schema of every action, numbered per action.

-- CreateTable
CREATE TABLE "action_schema" (
    "id" UUID NOT NULL,
    "integration" VARCHAR(64) NOT NULL,
    "action" VARCHAR(128) NOT NULL,
    "version" INTEGER NOT NULL,
    "content_hash" VARCHAR(64) NOT NULL,
    "input_schema" JSONB NOT NULL,
    "output_schema" JSONB NOT NULL,
    "compatibility" VARCHAR(16),
    "changes" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "action_schema_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "action_schema_integration_action_version_key" ON "action_schema"("integration", "action", "version");

-- CreateIndex
CREATE INDEX "action_schema_integration_action_content_hash_idx" ON "action_schema"("integration", "action", "content_hash");
