import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { notFound } from "@nagent/errors";
import { getSchemaVersion, listSchemaVersions, type ActionDetail as RegistryAction } from "@nagent/registry";
import type { AppDeps } from "../../deps";
import { actionSummary } from "./views";
import { catalogueDoc, MAX_VERSIONS_LISTED, registryPage, versionView } from "../catalogue";
import { errorResponses } from "../../schemas/common";
import { ActionDetail, ActionInput, ActionSlug, ActionSummary, ListCatalogueQuery, SchemaVersion, ToolDefinition, ToolFormatQuery, ValidationResult } from "../../schemas/catalogue";

const SlugParams = Type.Object({ slug: ActionSlug }, { additionalProperties: false });

/**
 * The action catalogue: search, one action's schemas (current or an older version), its version history, input
 * validation without running anything, and the action as an LLM tool definition.
 */
export const actionRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { registry } = deps;
  const prisma = deps.db.prisma;

  const actionOr404 = (slug: string): RegistryAction => {
    const action = registry.getAction(slug);
    if (action === undefined) throw notFound(`Action ${slug}`);
    return action;
  };

  app.get("/v1/actions", {
    schema: {
      ...catalogueDoc("List and search actions", "Ordered by slug. `q` keeps the actions whose slug, name or description contain every word of it. Follow `next_cursor` (null on the last page) with the same filters."),
      querystring: ListCatalogueQuery,
      response: { 200: Type.Object({ actions: Type.Array(ActionSummary), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(404) },
    },
  }, async (request) => {
    const { integration, q, limit, cursor } = request.query;
    if (integration !== undefined && registry.getIntegration(integration) === undefined) throw notFound(`Integration ${integration}`);
    const page = registryPage(() => registry.listActions({ integration, q, limit, cursor }));
    return { actions: page.actions.map(actionSummary), next_cursor: page.next_cursor };
  });

  app.get("/v1/actions/:slug", {
    schema: {
      ...catalogueDoc("Get an action with its input and output schemas", "The current schemas, or with `?version=N` those of any stored version (404 if the action never had it). The name and description are always the current ones."),
      params: SlugParams,
      querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: "A schema version (see /versions)." })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ action: ActionDetail }), ...errorResponses(404) },
    },
  }, async (request) => {
    const { slug, integration, name, description, group, input_schema, output_schema, schema_version } = actionOr404(request.params.slug);
    const summary = { slug, integration, name, description, group };
    const wanted = request.query.version;
    if (wanted === undefined) return { action: { ...summary, input_schema, output_schema, schema_version } };
    const stored = await getSchemaVersion(prisma, slug, wanted);
    if (stored === undefined) throw notFound(`Version ${wanted} of action ${slug}`);
    return { action: { ...summary, input_schema: stored.input_schema, output_schema: stored.output_schema, schema_version: stored.version } };
  });

  app.get("/v1/actions/:slug/versions", {
    schema: {
      ...catalogueDoc("List an action's schema versions", [
        "Newest first (at most 100). A version is the content of the input and output schemas together: a manifest change that alters them adds one, a revert to earlier content answers with that content's existing number.",
        "`compatibility` judges each version against the one before from the callers' side, with the `changes` found.",
        "`current_version` is the version this server validates inputs against.",
      ].join(" ")),
      params: SlugParams,
      response: {
        200: Type.Object({ action: Type.String(), current_version: Type.Union([Type.Integer(), Type.Null()]), versions: Type.Array(SchemaVersion) }),
        ...errorResponses(404),
      },
    },
  }, async (request) => {
    const action = actionOr404(request.params.slug);
    const versions = await listSchemaVersions(prisma, action.slug, { limit: MAX_VERSIONS_LISTED });
    return { action: action.slug, current_version: action.schema_version, versions: versions.map(versionView) };
  });

  app.post("/v1/actions/:slug/validate", {
    schema: {
      ...catalogueDoc("Validate an input without running the action", "Answers 200 either way: `{valid: true}`, or `{valid: false, errors}` with every problem (JSON pointer, keyword, sentence). The same check POST /v1/actions/:slug/execute makes."),
      params: SlugParams,
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
      params: SlugParams,
      querystring: ToolFormatQuery,
      response: { 200: ToolDefinition, ...errorResponses(404) },
    },
  }, async (request) => {
    const action = actionOr404(request.params.slug);
    return registry.toTool(action.slug, request.query.format);
  });
};
