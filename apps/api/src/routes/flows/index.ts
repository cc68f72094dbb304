import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppDeps } from "../../deps";
import { flowCheckView } from "../actions/views";
import { errorResponses } from "../../schemas/common";
import { FlowCheckBody, FlowCheckResult } from "../../schemas/catalogue";

/** Checks a flow of actions without running it (references between steps, types, inputs). */
export const flowRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.post("/v1/flows/check", {
    schema: {
      tags: ["catalogue"], security: [{ apiKey: [] }],
      summary: "Check a flow of actions (optionally started by a trigger)",
      description: [
        "Steps run in order. An input value `{\"$ref\": \"steps.<id>.data.<path>\"}` stands for the `data` of an earlier step's output (path segments split by `.`, numbers index arrays).",
        "The first step may instead be `{\"id\", \"trigger\": \"<TRIGGER_SLUG>\"}` (no input): the event that starts the flow; references to it resolve against the trigger's payload schema (GET /v1/triggers/:slug).",
        "Every reference must name an earlier step and a path its action's output schema (or trigger's payload schema) declares, with a type that fits the input at that place; the rest of each input is validated against its action's input schema.",
        "Answers 200 with every problem in `errors` (the flow is valid when there is none) and, in `warnings`, referenced values that may be absent or null where the input needs one.",
      ].join(" "),
      body: FlowCheckBody,
      response: { 200: FlowCheckResult, ...errorResponses() },
    },
  }, async (request) => flowCheckView(deps.registry.checkFlow(request.body.steps)));
};
