-- Honest runs (issue 14): the `unknown` status, the output check, platform-assigned inputs, reconciliation by the
-- caller, sealed sensitive inputs, and the workspace's output-check mode.

-- A write whose outcome could not be established ends `unknown` (until POST /v1/runs/:id/reconcile records it).
ALTER TABLE "run" DROP CONSTRAINT "run_status_check";
ALTER TABLE "run" ADD CONSTRAINT "run_status_check" CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed', 'canceled', 'unknown'));

-- The upstream answer checked against the action's output schema: {valid, problems[≤10]}; null before the end.
ALTER TABLE "run" ADD COLUMN "output_check" JSONB;
-- Input properties the platform filled in (e.g. a task's unique_id, so that a lost create can be found again).
ALTER TABLE "run" ADD COLUMN "platform_assigned" VARCHAR(128)[] NOT NULL DEFAULT ARRAY[]::VARCHAR(128)[];
-- Input values the manifest marks sensitive (writeOnly / x-sensitive), sealed by the vault; `input` holds them masked.
-- Cleared when the run ends.
ALTER TABLE "run" ADD COLUMN "sealed_input" BYTEA;
-- When the caller recorded the outcome of an `unknown` run, and with which API key.
ALTER TABLE "run" ADD COLUMN "reconciled_at" TIMESTAMPTZ(3);
ALTER TABLE "run" ADD COLUMN "reconciled_by" VARCHAR(64);

-- "record": an answer that does not match the output schema is recorded (output_check) and the run succeeds;
-- "strict": the run ends successful:false with OUTPUT_SCHEMA_MISMATCH, the data kept for inspection.
ALTER TABLE "workspace" ADD COLUMN "output_check" VARCHAR(16) NOT NULL DEFAULT 'record';
ALTER TABLE "workspace" ADD CONSTRAINT "workspace_output_check_check" CHECK ("output_check" IN ('record', 'strict'));
