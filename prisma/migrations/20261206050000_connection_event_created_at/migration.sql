-- NAGENT_CONNECTION_STATUS_CHANGED catch-up (apps/worker/src/triggers.ts, packages/triggers/src/connection-status.ts):
-- each round reads the connection_event rows of the last 24 h across workspaces, oldest first, that have no
-- trigger_event with their dedup key yet (checked through trigger_event's unique (workspace_id, dedup_key) index).

-- CreateIndex
CREATE INDEX "connection_event_created_at_id_idx" ON "connection_event"("created_at", "id");
