import type { FastifyInstance } from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { ERROR_CATALOGUE } from "@nagent/errors";

/** A last step over the finished document (e.g. adding the action schemas to `components.schemas`). */
export type ExtendDocument = <T extends object>(doc: T) => T;

/** Builds the OpenAPI 3.1 document from the route schemas; serves it at /openapi.json and the docs UI at /docs. */
export async function registerOpenApi(app: FastifyInstance, options: { extendDocument?: ExtendDocument } = {}): Promise<void> {
  const extend = options.extendDocument;
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Nagent Integrations API",
        version: "1.0.0",
        description: [
          "The integration platform's REST API: the connector and schema registry, the credentials vault (connections) and the execution API.",
          "",
          "Errors answer `{error:{code,message,details}, request_id}`. Codes:",
          "",
          ...Object.entries(ERROR_CATALOGUE).map(([code, e]) => `- \`${code}\` (${e.status}): ${e.description}`),
        ].join("\n"),
      },
      components: {
        securitySchemes: {
          apiKey: { type: "http", scheme: "bearer", description: "A workspace API key (nk_…)." },
          adminToken: { type: "http", scheme: "bearer", description: "The admin token (NAGENT_ADMIN_TOKEN)." },
        },
      },
    },
    // Name shared schemas by their $id in components.schemas instead of def-0, def-1, ….
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json["$id"] === "string" ? json["$id"] : `def-${i}`) },
    ...(extend ? { transformObject: (d) => ("openapiObject" in d ? extend(d.openapiObject) : d.swaggerObject) } : {}),
  });
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { deepLinking: true } });
  app.get("/openapi.json", { config: { auth: "public" }, schema: { hide: true } }, async () => app.swagger());
}
