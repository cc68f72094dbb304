-- MCP (issue 13): tool sets, and where a run came from.
--
-- A tool set is a workspace's named selection of actions (by slug and/or by group) served at its own MCP URL
-- (/mcp/<id>), optionally pinned to one connection, in mode "all" (one MCP tool per action) or "search" (two
-- meta-tools). `connection_id` has no foreign key on purpose: deleting a connection must not delete or silently
-- re-target the tool sets pinned to it; their calls then answer the connection's own NOT_FOUND.

-- CreateTable
CREATE TABLE "toolset" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "actions" VARCHAR(128)[] NOT NULL DEFAULT ARRAY[]::VARCHAR(128)[],
    "groups" VARCHAR(64)[] NOT NULL DEFAULT ARRAY[]::VARCHAR(64)[],
    "connection_id" UUID,
    "mode" VARCHAR(16) NOT NULL DEFAULT 'all',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "toolset_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "toolset_workspace_id_name_key" ON "toolset"("workspace_id", "name");

-- CreateIndex
CREATE INDEX "toolset_workspace_id_created_at_idx" ON "toolset"("workspace_id", "created_at");

-- AddForeignKey
ALTER TABLE "toolset" ADD CONSTRAINT "toolset_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "toolset" ADD CONSTRAINT "toolset_mode_check" CHECK ("mode" IN ('all', 'search'));

-- A run's source: "api" (POST /v1/actions/:slug/execute) or "mcp" (tools/call), and the tool set it was called
-- through. Adding a column with a constant default does not rewrite the table (PostgreSQL 11+).
-- AlterTable
ALTER TABLE "run" ADD COLUMN "source" VARCHAR(8) NOT NULL DEFAULT 'api',
ADD COLUMN "toolset_id" UUID;

ALTER TABLE "run" ADD CONSTRAINT "run_source_check" CHECK ("source" IN ('api', 'mcp'));

-- ?toolset_id= on GET /v1/runs (what an agent did through one tool set), ending in the keyset order like the others.
-- CreateIndex
CREATE INDEX "run_workspace_id_toolset_id_created_at_id_idx" ON "run"("workspace_id", "toolset_id", "created_at" DESC, "id" DESC);
