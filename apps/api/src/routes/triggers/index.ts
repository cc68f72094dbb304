import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { AppError } from "@nagent/errors";
import { getTriggerSchemaVersion, listTriggerSchemaVersions, type TriggerDef } from "@nagent/registry";
import type { AppDeps } from "../../deps";
import { errorResponses } from "../../schemas/common";
import { ListCatalogueQuery } from "../../schemas/catalogue";
import { TriggerDetail, TriggerSchemaVersion, TriggerSlug, TriggerSummary, TriggerVersionQuery } from "../../schemas/triggers";
import { triggerDetail, triggerSummary } from "./views";
import { catalogueDoc, MAX_VERSIONS_LISTED, registryPage, versionView } from "../catalogue";

const SlugParams = Type.Object({ slug: TriggerSlug }, { additionalProperties: false });

/**
 * The trigger catalogue: the events integrations (and the platform, integration `nagent`) emit, each with the
 * JSON Schema of its data, examples, the filters a subscription may use, and its payload schema versions.
 */
export const triggerRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { registry } = deps;
  const prisma = deps.db.prisma;

  const triggerOr404 = (slug: string): TriggerDef => {
    const trigger = registry.getTrigger(slug);
    if (trigger === undefined) throw new AppError("TRIGGER_NOT_FOUND", `Trigger ${slug} not found.`);
    return trigger;
  };

  app.get("/v1/triggers", {
    schema: {
      ...catalogueDoc("List and search triggers", "Ordered by slug, the platform's own triggers (integration `nagent`) included. `q` keeps the triggers whose slug, name or description contain every word of it. Follow `next_cursor` (null on the last page) with the same filters."),
      querystring: ListCatalogueQuery,
      response: { 200: Type.Object({ triggers: Type.Array(TriggerSummary), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(404) },
    },
  }, async (request) => {
    const { integration, q, limit, cursor } = request.query;
    if (integration !== undefined && registry.getIntegration(integration) === undefined && !registry.triggerIntegrations().includes(integration)) {
      throw new AppError("NOT_FOUND", `Integration ${integration} not found.`);
    }
    const page = registryPage(() => registry.listTriggerPage({ integration, q, limit, cursor }));
    return { triggers: page.triggers.map(triggerSummary), next_cursor: page.next_cursor };
  });

  app.get("/v1/triggers/:slug", {
    schema: {
      ...catalogueDoc("Get a trigger with its payload schema, examples and filters", "The current payload schema (the JSON Schema of the event's `data`), or with `?version=N` that of any stored version (404 TRIGGER_NOT_FOUND if the trigger never had it). Everything else is always current."),
      params: SlugParams,
      querystring: TriggerVersionQuery,
      response: { 200: Type.Object({ trigger: TriggerDetail }), ...errorResponses(404) },
    },
  }, async (request) => {
    const trigger = triggerOr404(request.params.slug);
    const wanted = request.query.version;
    if (wanted === undefined) return { trigger: triggerDetail(trigger) };
    const stored = await getTriggerSchemaVersion(prisma, trigger.slug, wanted);
    if (stored === undefined) throw new AppError("TRIGGER_NOT_FOUND", `Version ${wanted} of trigger ${trigger.slug} not found.`);
    return { trigger: triggerDetail({ ...trigger, payload_schema: stored.payload_schema, schema_version: stored.version }) };
  });

  app.get("/v1/triggers/:slug/versions", {
    schema: {
      ...catalogueDoc("List a trigger's payload schema versions", [
        "Newest first (at most 100). A version is the content of the payload schema: a manifest change that alters it adds one, a revert to earlier content answers with that content's existing number.",
        "`compatibility` judges each version against the one before from the subscribers' side: `backward` = every event of the new version is valid under the old schema (existing subscribers keep working, e.g. a field added); `forward` or `breaking` = existing subscribers may break (e.g. a field removed).",
        "`current_version` is the version this server emits.",
      ].join(" ")),
      params: SlugParams,
      response: {
        200: Type.Object({ trigger: Type.String(), current_version: Type.Union([Type.Integer(), Type.Null()]), versions: Type.Array(TriggerSchemaVersion) }),
        ...errorResponses(404),
      },
    },
  }, async (request) => {
    const trigger = triggerOr404(request.params.slug);
    const versions = await listTriggerSchemaVersions(prisma, trigger.slug, { limit: MAX_VERSIONS_LISTED });
    return { trigger: trigger.slug, current_version: trigger.schema_version, versions: versions.map(versionView) };
  });
};
