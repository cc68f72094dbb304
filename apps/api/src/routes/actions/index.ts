import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { notFound } from "@nagent/errors";
import { getSchemaVersion, listSchemaVersions, type ActionDetail as RegistryAction } from "@nagent/registry";
import type { AppDeps } from "../../deps";
import { actionDetail, actionSummary } from "./views";
import { catalogueDoc, registerCatalogueRoutes } from "../catalogue";
import { errorResponses } from "../../schemas/common";
import { ActionDetail, ActionInput, ActionSlugParams, ActionVersionQuery, ActionSummary, SchemaVersion, ToolDefinition, ToolFormatQuery, ValidationResult } from "../../schemas/catalogue";

/**
 * The action catalogue: search, one action's schemas (current or an older version), its version history, input
 * validation without running anything, and the action as an LLM tool definition.
 */
export const actionRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps: { registry, db } }) => {
  const actionOr404 = (slug: string): RegistryAction => {
    const action = registry.getAction(slug);
    if (action === undefined) throw notFound(`Action ${slug}`);
    return action;
  };

  registerCatalogueRoutes(app, {
    kind: "action",
    params: ActionSlugParams,
    find: actionOr404,
    list: {
      summary: "List and search actions",
      description: "Ordered by slug. `q` keeps the actions whose slug, name or description contain every word of it. Follow `next_cursor` (null on the last page) with the same filters.",
      entry: ActionSummary,
      knows: (integration) => registry.getIntegration(integration) !== undefined,
      page: (query) => registry.listActions(query),
      entries: (page) => page.actions.map(actionSummary),
    },
    get: {
      summary: "Get an action with its input and output schemas",
      description: "The current schemas, or with `?version=N` those of any stored version (404 if the action never had it). The name and description are always the current ones.",
      query: ActionVersionQuery,
      detail: ActionDetail,
      stored: (action, version) => getSchemaVersion(db.prisma, action.slug, version),
      noSuchVersion: (action, version) => notFound(`Version ${version} of action ${action.slug}`),
      view: actionDetail,
    },
    versions: {
      summary: "List an action's schema versions",
      description: [
        "Newest first (at most 100). A version is the content of the input and output schemas together: a manifest change that alters them adds one, a revert to earlier content answers with that content's existing number.",
        "`compatibility` judges each version against the one before from the callers' side, with the `changes` found.",
        "`current_version` is the version this server validates inputs against.",
      ].join(" "),
      version: SchemaVersion,
      list: (slug, options) => listSchemaVersions(db.prisma, slug, options),
    },
  });

  app.post("/v1/actions/:slug/validate", {
    schema: {
      ...catalogueDoc("Validate an input without running the action", "Answers 200 either way: `{valid: true}`, or `{valid: false, errors}` with every problem (JSON pointer, keyword, sentence). The same check POST /v1/actions/:slug/execute makes."),
      params: ActionSlugParams,
      body: Type.Object({ input: ActionInput }, { additionalProperties: false }),
      response: { 200: ValidationResult, ...errorResponses(404) },
    },
  }, async (request) => {
    const action = actionOr404(request.params.slug);
    const result = registry.validateInput(action.slug, request.body.input);
    return result.valid ? { valid: true } : { valid: false, errors: result.errors.map(({ path, keyword, message }) => ({ path, keyword, message })) };
  });

  app.get("/v1/actions/:slug/tool", {
    schema: {
      ...catalogueDoc("Get the action as an LLM tool definition", "The definition in the vendor's own format, ready to pass in its tools list; the tool name is the action slug."),
      params: ActionSlugParams,
      querystring: ToolFormatQuery,
      response: { 200: ToolDefinition, ...errorResponses(404) },
    },
  }, async (request) => {
    const action = actionOr404(request.params.slug);
    return registry.toTool(action.slug, request.query.format);
  });
};
