import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { AppError, isAppError } from "@nagent/errors";

interface ValidationIssue {
  in: string;
  path: string;
  message: string;
  keyword: string;
}

/**
 * The one error handler: renders every error as `{error:{code,message,details}, request_id}` with the catalogue's
 * status. Request-validation errors become 400 VALIDATION_FAILED listing every problem with a JSON pointer; 5xx
 * answers never show internals. 4xx are logged at warn, 5xx at error.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    const appError = toAppError(error);
    if (appError.statusCode >= 500) {
      request.log.error({ err: error }, "request failed");
    } else {
      request.log.warn({ code: appError.code, statusCode: appError.statusCode }, appError.message);
    }
    return send(reply, request, appError);
  });

  app.setNotFoundHandler((request, reply) => {
    return send(reply, request, new AppError("NOT_FOUND", `No route ${request.method} ${request.url.split("?")[0] ?? ""}.`));
  });
}

/**
 * For Fastify's `frameworkErrors` option: errors the router raises before any route or hook runs (a malformed URL, a
 * path parameter past maxParamLength) get the same envelope as every other error.
 */
export function renderFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appError = error.code === "FST_ERR_MAX_PARAM_LENGTH"
    ? new AppError("URI_TOO_LONG", "A path segment is too long.")
    : new AppError("BAD_REQUEST", "The URL is malformed.");
  return send(reply, request, appError);
}

/**
 * For Fastify's `clientErrorHandler` option: a request Node's HTTP parser refuses before Fastify sees it (headers over
 * the size limit, malformed framing such as Content-Length with Transfer-Encoding, an invalid header name or value, a
 * request that does not arrive in time) is answered in the envelope too, with a fresh request id, and the connection
 * is closed (its framing cannot be trusted).
 */
export function renderClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const appError = error.code === "HPE_HEADER_OVERFLOW"
    ? new AppError("HEADERS_TOO_LARGE", "The request headers are too large.")
    : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? new AppError("REQUEST_TIMEOUT", "The request did not arrive in time.")
      : new AppError("BAD_REQUEST", "The HTTP request is malformed.");
  const requestId = randomUUID();
  this.log.debug({ reqId: requestId, code: error.code, statusCode: appError.statusCode }, "client error");
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(envelope(appError, requestId));
  socket.end([
    `HTTP/1.1 ${appError.statusCode} ${STATUS_CODES[appError.statusCode] ?? "Error"}`,
    "content-type: application/json; charset=utf-8",
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    "connection: close",
    "",
    body,
  ].join("\r\n"), () => socket.destroy());
}

function send(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  // Also here: the router's errors are answered before the onRequest hook that sets it on every other answer.
  reply.header("x-request-id", request.id);
  return reply.status(error.statusCode).send(envelope(error, request.id));
}

function envelope(error: AppError, requestId: string): { error: { code: string; message: string; details: unknown }; request_id: string } {
  return { error: { code: error.code, message: error.message, details: error.details }, request_id: requestId };
}

export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (isAppError(error)) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const where = fe.validationContext ?? "body";
    const issues: ValidationIssue[] = fe.validation.map((v) => ({
      in: where,
      path: pointerOf(v.instancePath, v.keyword, v.params as Record<string, unknown>),
      message: v.message ?? "is invalid",
      keyword: v.keyword,
    }));
    const first = issues[0];
    const summary = first ? `${where}${first.path || ""} ${first.message}` : `${where} is invalid`;
    return new AppError("VALIDATION_FAILED", `Invalid request: ${summary}.`, { details: issues });
  }
  switch (fe.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new AppError("PAYLOAD_TOO_LARGE", "The request body is too large.");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new AppError("BAD_REQUEST", "The body is empty; send a JSON object or omit the content-type header.");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new AppError("BAD_REQUEST", "The body is not valid JSON.");
    default:
      break;
  }
  if (fe.statusCode === 429) return new AppError("RATE_LIMITED", "Too many requests.", { headers: {} });
  if (fe.statusCode === 400 && error instanceof SyntaxError) return new AppError("BAD_REQUEST", "The body is not valid JSON.");
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError("BAD_REQUEST", "The request could not be processed.");
  }
  return new AppError("INTERNAL", "An internal error occurred; the request id identifies it in our logs.", { cause: error });
}

/** A JSON pointer to the offending value: for `required` and `additionalProperties`, the missing or extra property. */
export function pointerOf(instancePath: string, keyword: string, params: Record<string, unknown> | undefined): string {
  const extra = keyword === "required" ? params?.["missingProperty"] : keyword === "additionalProperties" ? params?.["additionalProperty"] : undefined;
  if (typeof extra !== "string") return instancePath;
  return `${instancePath}/${extra.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}
