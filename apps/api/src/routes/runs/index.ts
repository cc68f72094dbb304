import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";
import { workspaceOf } from "../../plugins/auth";
import { IdParams, errorResponses } from "../../schemas/common";
import { ListRunsQuerystring, ReconcileRunBody, Run, RunStats, RunStatsQuerystring, RunSummary } from "../../schemas/runs";

/** Run history for operators and agents: list and search runs; one run with its attempts; cancel a run that has not started. */
export const runRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const runs = deps.services.runs;
  const security = [{ apiKey: [] }];

  app.get("/v1/runs", {
    schema: {
      tags: ["runs"], security, summary: "List runs",
      description: "The workspace's runs, newest first (by creation), as summaries without input and output (GET /v1/runs/:id has them). " +
        "Filters combine with AND. Page with `cursor` = the previous page's `next_cursor` (null on the last page): a cursor is a position " +
        "in the history, so paging yields every run that existed when paging began exactly once, however many runs are added meanwhile " +
        "(new runs sort before the first page; list again without a cursor to see them). Keep the same filters while paging. " +
        "A malformed or foreign cursor answers 400 INVALID_CURSOR. Runs are kept NAGENT_RUN_RETENTION_DAYS (default 30) days after they end.",
      querystring: ListRunsQuerystring,
      response: { 200: Type.Object({ runs: Type.Array(RunSummary), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses() },
    },
  }, async (request) => runs.list(workspaceOf(request), request.query));

  app.get("/v1/runs/stats", {
    schema: {
      tags: ["runs"], security, summary: "Run statistics over a window",
      description: "Runs created per minute over the last `window_minutes` (default 60, at most 1440), by status, with the p50 and p95 of " +
        "how long the ended ones took; the whole window's total and percentiles too. Feeds the console's charts.",
      querystring: RunStatsQuerystring,
      response: { 200: RunStats, ...errorResponses() },
    },
  }, async (request) => deps.services.runStats.stats(workspaceOf(request), request.query.window_minutes ?? 60));

  app.get("/v1/runs/:id", {
    schema: { tags: ["runs"], security, summary: "Get a run with its attempts", params: IdParams, response: { 200: Type.Object({ run: Run }), ...errorResponses(404) } },
  }, async (request) => ({ run: await runs.get(workspaceOf(request), request.params.id) }));

  app.post("/v1/runs/:id/cancel", {
    schema: {
      tags: ["runs"], security, summary: "Cancel a queued run",
      description: "Cancels a run with no attempt in flight (queued, including one waiting for a retry). 409 RUN_NOT_CANCELABLE otherwise.",
      params: IdParams,
      response: { 200: Type.Object({ run: Run }), ...errorResponses(404, 409) },
    },
  }, async (request) => ({ run: await runs.cancel(workspaceOf(request), request.params.id) }));

  app.post("/v1/runs/:id/reconcile", {
    schema: {
      tags: ["runs"], security, summary: "Record the outcome of a run whose outcome is unknown",
      description: "A write that may have reached the upstream but whose outcome could not be established ends `unknown` " +
        "(error UPSTREAM_OUTCOME_UNKNOWN) instead of being repeated blindly. Check the upstream yourself, then record what you found: " +
        "`{status: \"succeeded\", data}` (data checked against the action's output_schema: 400 with JSON pointers otherwise) or " +
        "`{status: \"failed\", error?: {code?, message}}`. The run records who (the API key's id) and when. 409 RUN_NOT_RECONCILABLE " +
        "for a run that is not `unknown`.",
      params: IdParams,
      body: ReconcileRunBody,
      response: { 200: Type.Object({ run: Run }), ...errorResponses(400, 404, 409) },
    },
  }, async (request) => ({ run: await runs.reconcile(workspaceOf(request), request.params.id, request.body, request.principal!.apiKeyId ?? "admin") }));
};
