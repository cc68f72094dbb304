-- The credentials vault: per-workspace data keys (wrapped by a master key) and connections whose credentials exist
-- only as ciphertext.

-- CreateTable
CREATE TABLE "workspace_key" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "wrapped_key" BYTEA NOT NULL,
    "master_key_id" VARCHAR(32) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotated_at" TIMESTAMPTZ(3),

    CONSTRAINT "workspace_key_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connection" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "integration" VARCHAR(64) NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "status" VARCHAR(16) NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "credential_hint" VARCHAR(64) NOT NULL,
    "base_url" VARCHAR(2048),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_verified_at" TIMESTAMPTZ(3),
    "last_error" VARCHAR(1000),

    CONSTRAINT "connection_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "workspace_key_workspace_id_version_key" ON "workspace_key"("workspace_id", "version");

-- CreateIndex
CREATE INDEX "workspace_key_master_key_id_idx" ON "workspace_key"("master_key_id");

-- CreateIndex
CREATE UNIQUE INDEX "connection_workspace_id_integration_name_key" ON "connection"("workspace_id", "integration", "name");

-- CreateIndex
CREATE INDEX "connection_workspace_id_created_at_idx" ON "connection"("workspace_id", "created_at");

-- AddForeignKey
ALTER TABLE "workspace_key" ADD CONSTRAINT "workspace_key_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connection" ADD CONSTRAINT "connection_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
