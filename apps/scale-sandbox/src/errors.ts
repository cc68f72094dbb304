import type { FastifyError, FastifyInstance } from "fastify";

/**
 * An error answered the way Scale answers: `{"status_code": <int>, "error": "<message>"}` with that status.
 * Routes throw these; the one handler below renders them (and Fastify's own errors) in that shape.
 */
export class ScaleError extends Error {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "ScaleError";
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

export const badRequest = (message: string): ScaleError => new ScaleError(400, message);
export const notFound = (message: string): ScaleError => new ScaleError(404, message);
export const conflict = (message: string): ScaleError => new ScaleError(409, message);

/**
 * Scale's validation wording, as its SDK README shows it: `Parameter is invalid, reason: "attachments" is required`.
 * `reason` starts after the quoted parameter name.
 */
export function invalidParam(name: string, reason: string): ScaleError {
  return badRequest(`Parameter is invalid, reason: "${name}" ${reason}`);
}

/** The body every error answer carries. */
export function errorBody(statusCode: number, message: string): { status_code: number; error: string } {
  return { status_code: statusCode, error: message };
}

/**
 * Installs the error and not-found handlers and a JSON body parser that accepts what Scale's own SDK sends: an empty
 * body with `Content-Type: application/json` (finalize batch, reset priorities, clear unique id) parses as no body,
 * and a bare JSON array (tags) is a valid body. 5xx answers never carry internals.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badRequest("Request body is not valid JSON."), undefined);
    }
  });

  app.setErrorHandler((error: FastifyError | ScaleError, request, reply) => {
    const { statusCode, message, headers } = toScaleError(error);
    if (statusCode >= 500) request.log.error({ err: error }, "sandbox request failed");
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    return reply.status(statusCode).send(errorBody(statusCode, message));
  });

  app.setNotFoundHandler((_request, reply) => reply.status(404).send(errorBody(404, "Not Found")));
}

function toScaleError(error: FastifyError | ScaleError): ScaleError {
  if (error instanceof ScaleError) return error;
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ScaleError(413, "Request body is too large.");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return badRequest("Unsupported content type; send application/json.");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return badRequest("Request body is not valid JSON.");
    default:
      break;
  }
  if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
    return new ScaleError(error.statusCode, error.message);
  }
  return new ScaleError(500, "Internal Server Error");
}
