-- The run history's indexes on nullable columns become partial: ?error_code= and ?toolset_id= only ever look for a
-- value, so a run without one (most runs: every success, every run not made over MCP) needs no entry in them. Each run
-- writes three row versions (insert, claim, finish) and none of these updates is HOT (the status changes), so every
-- version takes an entry in every index that holds it: a successful API run now writes 21 index entries, not 27.
-- Measured (issue 17, bench/execute's (d), two interleaved pairs): WAL per async run 4,115 and 4,136 bytes against
-- 4,869 and 4,884 with the full indexes, and 9 % more runs a second.
--
-- The list queries (packages/runs/src/list-runs.ts) filter with `error_code = $n` / `toolset_id = $n`, which
-- PostgreSQL proves imply the predicates, so the same indexes serve them, in generic plans too
-- (test/integration/runs/partial-history-indexes.test.ts). 20261128210000 made them plain because schema.prisma could
-- not describe a partial index; Prisma 7.10 can (`where: raw(...)`, preview feature partialIndexes), and the
-- schema-drift test now compares predicates too.
--
-- Rebuilt in place (DROP, then CREATE): the migrator runs each migration in a transaction, where CREATE INDEX
-- CONCURRENTLY cannot run, and writes to run wait while the two indexes build (each a scan of the table).

-- DropIndex
DROP INDEX "run_workspace_id_error_code_created_at_id_idx";
-- CreateIndex
CREATE INDEX "run_workspace_id_error_code_created_at_id_idx" ON "run"("workspace_id", "error_code", "created_at" DESC, "id" DESC) WHERE error_code IS NOT NULL;

-- DropIndex
DROP INDEX "run_workspace_id_toolset_id_created_at_id_idx";
-- CreateIndex
CREATE INDEX "run_workspace_id_toolset_id_created_at_id_idx" ON "run"("workspace_id", "toolset_id", "created_at" DESC, "id" DESC) WHERE toolset_id IS NOT NULL;
