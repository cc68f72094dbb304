-- The start of the attempt in flight lives on the run: an attempt's row is written once, when it ends (succeeded,
-- failed, retry) or, when its worker died, by the claim of the next attempt (lost). Before this, the claim inserted
-- the row and the end updated it: two writes, with their index entries and WAL, on every run's hot path.

-- AlterTable
ALTER TABLE "run" ADD COLUMN "attempt_started_at" TIMESTAMPTZ(3);

-- Attempts in flight when this migration runs keep their row; their end updates it (see packages/runs/src/hot-path.ts).
