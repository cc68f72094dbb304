-- The Idempotency-Key index becomes partial: most runs have no key, yet each took an entry in it for its insert and
-- another for its finish (the finish is not a HOT update: 20261207120000_run_hot_updates), to hold a NULL that no
-- lookup ever asks for. Uniqueness is unchanged: NULLs never conflicted in it. The run store's insert names the
-- predicate in its ON CONFLICT target (packages/runs/src/hot-path.ts), which PostgreSQL needs to infer a partial
-- index as the arbiter; lookups by key (`idempotency_key = $n`) imply it.
--
-- Rebuilt in place (DROP, then CREATE), in the migrator's transaction: writes to run wait while it builds.

-- DropIndex
DROP INDEX "run_workspace_id_idempotency_key_key";
-- CreateIndex
CREATE UNIQUE INDEX "run_workspace_id_idempotency_key_key" ON "run"("workspace_id", "idempotency_key") WHERE idempotency_key IS NOT NULL;
