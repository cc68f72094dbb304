import { Type } from "typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { notFound } from "@nagent/errors";
import type { AppDeps } from "../../deps";
import { actionSummary, integrationSummary } from "../actions/views";
import { errorResponses } from "../../schemas/common";
import { catalogueDoc } from "../catalogue";
import { ActionSummary, IntegrationSlug, IntegrationSummary } from "../../schemas/catalogue";

/** The integrations the registry holds. The catalogue is the same for every workspace; a workspace key is still required. */
export const integrationRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { registry } = deps;

  app.get("/v1/integrations", {
    schema: {
      ...catalogueDoc("List integrations"),
      response: { 200: Type.Object({ integrations: Type.Array(IntegrationSummary) }), ...errorResponses() },
    },
  }, async () => ({ integrations: registry.listIntegrations().map(integrationSummary) }));

  app.get("/v1/integrations/:slug", {
    schema: {
      ...catalogueDoc("Get an integration with its actions"),
      params: Type.Object({ slug: IntegrationSlug }, { additionalProperties: false }),
      response: {
        200: Type.Object({ integration: Type.Object({ ...IntegrationSummary.properties, actions: Type.Array(ActionSummary) }, { title: "Integration" }) }),
        ...errorResponses(404),
      },
    },
  }, async (request) => {
    const integration = registry.getIntegration(request.params.slug);
    if (integration === undefined) throw notFound(`Integration ${request.params.slug}`);
    return { integration: { ...integrationSummary(integration), actions: integration.actions.map(actionSummary) } };
  });
};
