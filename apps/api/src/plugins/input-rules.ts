import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "@nagent/errors";

/** JSON values nest at most this deep in a request (an action input included); deeper answers 400. */
export const MAX_INPUT_DEPTH = 64;

/** At most this many problems are listed in one answer. */
const MAX_ISSUES = 20;

export interface InputIssue {
  in: "params" | "querystring" | "body";
  path: string;
  message: string;
  keyword: string;
}

/**
 * The input rules every route shares, checked in one place after schema validation and before any handler stores or
 * queues anything — the parts of a request no route schema can express, or that ajv lets through:
 * - a string (value or property name) holds neither U+0000 (PostgreSQL refuses it in `text` and `jsonb`) nor a lone
 *   UTF-16 surrogate (not Unicode; `jsonb` refuses it too);
 * - a number is finite (ajv's type coercion turns a query's `1e309` into Infinity and then skips its bounds, and JSON
 *   itself parses `1e309` to Infinity);
 * - a value nests at most MAX_INPUT_DEPTH levels deep.
 * A breach answers 400 VALIDATION_FAILED with the JSON pointer of each offending value, as schema errors do. Path
 * parameters, the query string and the whole body are walked, so an action's free-form `input` is covered too.
 */
export function registerInputRules(app: FastifyInstance): void {
  app.addHook("preHandler", async (request) => {
    const issues = inputIssues(request);
    if (issues.length === 0) return;
    const first = issues[0]!;
    throw new AppError("VALIDATION_FAILED", `Invalid request: ${first.in}${first.path} ${first.message}.`, { details: issues });
  });
}

export function inputIssues(request: Pick<FastifyRequest, "params" | "query" | "body">): InputIssue[] {
  const issues: InputIssue[] = [];
  walk(request.params, "params", issues);
  walk(request.query, "querystring", issues);
  walk(request.body, "body", issues);
  return issues.slice(0, MAX_ISSUES);
}

/** Walks a parsed JSON value without recursion (a hostile body can nest far deeper than the call stack). */
function walk(root: unknown, where: InputIssue["in"], issues: InputIssue[]): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: "", depth: 0 }];
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === "string") {
      const problem = stringProblem(value);
      if (problem) issues.push({ in: where, path, ...problem });
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) issues.push({ in: where, path, message: "must be a finite number", keyword: "finite" });
    } else if (value !== null && typeof value === "object") {
      if (depth >= MAX_INPUT_DEPTH) {
        issues.push({ in: where, path, message: `must not nest deeper than ${MAX_INPUT_DEPTH} levels`, keyword: "maxDepth" });
        continue;
      }
      const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        const childPath = `${path}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
        const keyProblem = Array.isArray(value) ? null : stringProblem(key);
        if (keyProblem) issues.push({ in: where, path: childPath, message: `property name ${keyProblem.message}`, keyword: keyProblem.keyword });
        stack.push({ value: child, path: childPath, depth: depth + 1 });
      }
    }
  }
}

/** With the `u` flag a surrogate pair is one code point, so only a lone surrogate is of category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

function stringProblem(value: string): { message: string; keyword: string } | null {
  if (value.includes("\u0000")) return { message: "must not contain U+0000 (NUL)", keyword: "noNul" };
  if (LONE_SURROGATE.test(value)) return { message: "must be well-formed Unicode (no lone surrogates)", keyword: "wellFormed" };
  return null;
}
