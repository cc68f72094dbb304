-- Queue jobs may carry several runs (issue 17: one BullMQ job per batch of async runs), so a job's id is no longer
-- always its run's id, and one run may have two jobs (the stuck-run sweeper's, and the batch it is still waiting in).
-- The claim now records which job's attempt holds the run, and takes a `running` run over only for that same job
-- (BullMQ handing a stalled job to another worker) — never for another job of the run, which then does nothing.
-- The sweeper hands a run it finds stuck over to the job it adds (the run's own id); the API's inline attempt holds
-- its run under the run's id too. Not indexed: the claim stays a HOT update (20261207120000_run_hot_updates).
ALTER TABLE "run" ADD COLUMN "claimed_by" VARCHAR(64);

-- Runs running now were held by a job whose id is the run's (the only kind of job until now), or by the API.
UPDATE "run" SET "claimed_by" = "id"::text WHERE "status" = 'running';
