import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { AppError } from "@nagent/errors";
import { getTriggerSchemaVersion, listTriggerSchemaVersions, type TriggerDef } from "@nagent/registry";
import type { AppDeps } from "../../deps";
import { TriggerDetail, TriggerSchemaVersion, TriggerSlugParams, TriggerSummary, TriggerVersionQuery } from "../../schemas/triggers";
import { triggerDetail, triggerSummary } from "./views";
import { registerCatalogueRoutes } from "../catalogue";

/**
 * The trigger catalogue: the events integrations (and the platform, integration `nagent`) emit, each with the
 * JSON Schema of its data, examples, the filters a subscription may use, and its payload schema versions.
 */
export const triggerRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps: { registry, db } }) => {
  const triggerOr404 = (slug: string): TriggerDef => {
    const trigger = registry.getTrigger(slug);
    if (trigger === undefined) throw new AppError("TRIGGER_NOT_FOUND", `Trigger ${slug} not found.`);
    return trigger;
  };

  registerCatalogueRoutes(app, {
    kind: "trigger",
    params: TriggerSlugParams,
    find: triggerOr404,
    list: {
      summary: "List and search triggers",
      description: "Ordered by slug, the platform's own triggers (integration `nagent`) included. `q` keeps the triggers whose slug, name or description contain every word of it. Follow `next_cursor` (null on the last page) with the same filters.",
      entry: TriggerSummary,
      knows: (integration) => registry.getIntegration(integration) !== undefined || registry.triggerIntegrations().includes(integration),
      page: (query) => registry.listTriggerPage(query),
      entries: (page) => page.triggers.map(triggerSummary),
    },
    get: {
      summary: "Get a trigger with its payload schema, examples and filters",
      description: "The current payload schema (the JSON Schema of the event's `data`), or with `?version=N` that of any stored version (404 TRIGGER_NOT_FOUND if the trigger never had it). Everything else is always current.",
      query: TriggerVersionQuery,
      detail: TriggerDetail,
      stored: (trigger, version) => getTriggerSchemaVersion(db.prisma, trigger.slug, version),
      noSuchVersion: (trigger, version) => new AppError("TRIGGER_NOT_FOUND", `Version ${version} of trigger ${trigger.slug} not found.`),
      view: (trigger, version) => triggerDetail(version === undefined ? trigger : { ...trigger, payload_schema: version.payload_schema, schema_version: version.version }),
    },
    versions: {
      summary: "List a trigger's payload schema versions",
      description: [
        "Newest first (at most 100). A version is the content of the payload schema: a manifest change that alters it adds one, a revert to earlier content answers with that content's existing number.",
        "`compatibility` judges each version against the one before from the subscribers' side: `backward` = every event of the new version is valid under the old schema (existing subscribers keep working, e.g. a field added); `forward` or `breaking` = existing subscribers may break (e.g. a field removed).",
        "`current_version` is the version this server emits.",
      ].join(" "),
      version: TriggerSchemaVersion,
      list: (slug, options) => listTriggerSchemaVersions(db.prisma, slug, options),
    },
  });
};
