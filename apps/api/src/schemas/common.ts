import { Type, type TSchema } from "typebox";
import { ERROR_CODES } from "@nagent/errors";

/** Shared route schemas. Every string, array and object of a request schema is bounded (STYLE.md practice 4). */

export const Uuid = Type.String({ format: "uuid", maxLength: 36, description: "A UUID." });
export const Timestamp = Type.String({ format: "date-time", description: "An ISO 8601 timestamp (UTC)." });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
export const Name = Type.String({ minLength: 1, maxLength: 100, pattern: "\\S", description: "A name people read." });

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ enum: ERROR_CODES, description: "A stable code from the error catalogue." }),
      message: Type.String(),
      details: Type.Unknown({ description: "Structured detail; for VALIDATION_FAILED the list of problems." }),
    }),
    request_id: Type.String(),
  },
  { $id: "ErrorBody", title: "Error" },
);

/** Error responses every route may answer, by status; routes add the statuses they use. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of [400, 401, 500, ...statuses]) out[status] = Type.Ref("ErrorBody");
  return out;
}

/**
 * The OpenAPI header the routes of one resource share: the tag they are listed under and the credential they take
 * (a workspace API key unless said). `doc(summary, description?)` gives one route's header.
 */
export function routeDocs(tag: string, credential: "apiKey" | "adminToken" = "apiKey") {
  const tags = [tag];
  const security = [{ [credential]: [] }];
  return (summary: string, description?: string) => ({ tags, security, summary, ...(description === undefined ? {} : { description }) });
}

export type RouteDoc = ReturnType<ReturnType<typeof routeDocs>>;

export const Limit = Type.Integer({ minimum: 1, maximum: 200, default: 50, description: "Page size." });
export const Cursor = Type.String({ minLength: 1, maxLength: 512, description: "The `next_cursor` of the previous page." });
