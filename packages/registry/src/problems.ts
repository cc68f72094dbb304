import { isPlainObject, parsePointer } from "./json-pointer";
import type { ManifestProblem } from "./types";

/**
 * Thrown by the loader when any manifest is invalid: `problems` lists every one found (not just the first), each
 * naming file, action and JSON pointer, and the message prints them one a line.
 */
export class ManifestError extends Error {
  readonly problems: readonly ManifestProblem[];
  constructor(problems: readonly ManifestProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? "" : "s"} in integration manifests:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`);
    this.name = "ManifestError";
    this.problems = problems;
  }
}

/** `file: ACTION_SLUG: /pointer: message` (the action part only when there is one). */
export function formatProblem(problem: ManifestProblem): string {
  const action = problem.action === undefined ? "" : ` ${problem.action}:`;
  return `${problem.file}:${action} ${problem.pointer === "" ? "(document)" : problem.pointer}: ${problem.message}`;
}

/** The slug of the action a pointer falls in (`/actions/3/...` → `actions[3].slug`), if it is a string. */
export function actionAt(doc: unknown, pointer: string): string | undefined {
  const tokens = pointer === "" ? [] : parsePointer(pointer);
  if (tokens[0] !== "actions" || tokens[1] === undefined || !isPlainObject(doc)) return undefined;
  const actions = doc["actions"];
  if (!Array.isArray(actions)) return undefined;
  const action: unknown = actions[Number(tokens[1])];
  if (!isPlainObject(action)) return undefined;
  return typeof action["slug"] === "string" ? action["slug"] : `actions[${tokens[1]}]`;
}

/** Collects problems for one manifest file, filling in file and action from the pointer. */
export class ProblemList {
  readonly items: ManifestProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly doc: unknown,
  ) {}

  add(pointer: string, message: string): void {
    const action = actionAt(this.doc, pointer);
    this.items.push({ file: this.file, ...(action === undefined ? {} : { action }), pointer, message });
  }
}
