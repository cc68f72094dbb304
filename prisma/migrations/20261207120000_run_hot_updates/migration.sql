-- A run's claim becomes a HOT update (issue 17). Each run writes three row versions: the insert (queued), the claim
-- (running) and the finish. An update is HOT — a new version on the same page, reached from the old one, with no new
-- index entry at all — only when no index holds a column whose value it changes. The claim changes status,
-- updated_at, started_at, attempt_started_at and attempts_count; status and updated_at were in five indexes, so every
-- claim and every finish wrote an entry in every index: 21 entries a successful run.
--
-- The history's indexes now hold only columns a run never changes, plus two partial indexes on columns that change
-- once, when the run ends:
-- - ?action= and ?connection_id= lose status: (workspace_id, action | connection_id, created_at DESC, id DESC). Their
--   status filters, when given, are tested on the rows (most runs succeed; the other statuses have indexes below).
-- - Live runs (queued, running: ?status=queued|running, the queue position of a queued run, the stuck-run sweeper)
--   are found through (workspace_id, created_at DESC, id DESC) WHERE finished_at IS NULL: only live runs are in it.
-- - Runs that ended without success (failed, canceled, unknown) through the same columns WHERE error_code IS NOT NULL,
--   and those of one action (?action=&status=failed, the failing runs of one action) through the action's.
-- - Retention finds old ended runs through (finished_at) WHERE finished_at IS NOT NULL.
-- The claim changes none of these columns (finished_at and error_code stay null), so it is HOT whenever its page has
-- room: fillfactor 80 keeps a fifth of each page for it. The finish is not (finished_at changes): it writes five
-- entries (the primary key, the idempotency key, the workspace's, action's and connection's histories) and one in the
-- retention index; a failed run's, three more (its error code's, and the two of runs that ended without success).
-- A successful run: 12 entries, not 21.
--
-- The list queries must name the predicates for PostgreSQL to use the partial indexes (a status does not imply them
-- as far as the planner knows); the two CHECK constraints below make each predicate match its statuses exactly, so
-- what the indexes hold is what the statuses say.

-- Ended runs always have finished_at, live runs never; a run that ended without success always has an error code.
UPDATE run SET finished_at = updated_at WHERE status NOT IN ('queued', 'running') AND finished_at IS NULL;
UPDATE run SET finished_at = NULL WHERE status IN ('queued', 'running') AND finished_at IS NOT NULL;
UPDATE run SET error_code = left(COALESCE(output->'error'->>'code', 'UPSTREAM_OUTCOME_FAILED'), 64)
  WHERE status IN ('failed', 'canceled', 'unknown') AND error_code IS NULL;
ALTER TABLE "run" ADD CONSTRAINT "run_finished_check" CHECK ((status IN ('queued', 'running')) = (finished_at IS NULL));
ALTER TABLE "run" ADD CONSTRAINT "run_error_code_check" CHECK (status IN ('queued', 'running', 'succeeded') OR error_code IS NOT NULL);

-- DropIndex
DROP INDEX "run_status_updated_at_idx";
-- DropIndex
DROP INDEX "run_workspace_id_status_created_at_id_idx";
-- DropIndex
DROP INDEX "run_workspace_id_action_status_created_at_id_idx";
-- DropIndex
DROP INDEX "run_workspace_id_connection_id_status_created_at_id_idx";

-- CreateIndex
CREATE INDEX "run_workspace_id_action_created_at_id_idx" ON "run"("workspace_id", "action", "created_at" DESC, "id" DESC);
-- CreateIndex
CREATE INDEX "run_workspace_id_connection_id_created_at_id_idx" ON "run"("workspace_id", "connection_id", "created_at" DESC, "id" DESC);
-- CreateIndex
CREATE INDEX "run_live_workspace_id_created_at_id_idx" ON "run"("workspace_id", "created_at" DESC, "id" DESC) WHERE finished_at IS NULL;
-- CreateIndex
CREATE INDEX "run_errored_workspace_id_created_at_id_idx" ON "run"("workspace_id", "created_at" DESC, "id" DESC) WHERE error_code IS NOT NULL;
-- CreateIndex
CREATE INDEX "run_errored_workspace_id_action_created_at_id_idx" ON "run"("workspace_id", "action", "created_at" DESC, "id" DESC) WHERE error_code IS NOT NULL;
-- CreateIndex
CREATE INDEX "run_finished_at_idx" ON "run"("finished_at") WHERE finished_at IS NOT NULL;

-- Room on each page for the claim's new version (existing pages keep their layout until rewritten).
ALTER TABLE "run" SET (fillfactor = 80);
