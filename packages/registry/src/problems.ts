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

/** `file: ACTION_SLUG: /pointer: message` (the action or trigger part only when there is one). */
export function formatProblem(problem: ManifestProblem): string {
  const item = problem.action ?? problem.trigger;
  const action = item === undefined ? "" : ` ${item}:`;
  return `${problem.file}:${action} ${problem.pointer === "" ? "(document)" : problem.pointer}: ${problem.message}`;
}

/** The slug of the action a pointer falls in (`/actions/3/...` → `actions[3].slug`), if it is a string. */
export function actionAt(doc: unknown, pointer: string): string | undefined {
  return itemAt(doc, pointer, "actions");
}

/** The slug of the trigger a pointer falls in (`/triggers/1/...` → `triggers[1].slug`). */
export function triggerAt(doc: unknown, pointer: string): string | undefined {
  return itemAt(doc, pointer, "triggers");
}

/** `{action}` or `{trigger}` for a problem at `pointer`, or nothing. */
export function ownerAt(doc: unknown, pointer: string): { action?: string; trigger?: string } {
  const action = actionAt(doc, pointer);
  if (action !== undefined) return { action };
  const trigger = triggerAt(doc, pointer);
  return trigger === undefined ? {} : { trigger };
}

function itemAt(doc: unknown, pointer: string, list: "actions" | "triggers"): string | undefined {
  let tokens: string[];
  try {
    tokens = pointer === "" ? [] : parsePointer(pointer);
  } catch {
    return undefined;
  }
  if (tokens[0] !== list || tokens[1] === undefined || !isPlainObject(doc)) return undefined;
  const items = doc[list];
  if (!Array.isArray(items)) return undefined;
  const item: unknown = items[Number(tokens[1])];
  if (!isPlainObject(item)) return undefined;
  return typeof item["slug"] === "string" ? item["slug"] : `${list}[${tokens[1]}]`;
}

/** Collects problems for one manifest file, filling in file and action from the pointer. */
export class ProblemList {
  readonly items: ManifestProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly doc: unknown,
  ) {}

  add(pointer: string, message: string): void {
    this.items.push({ file: this.file, ...ownerAt(this.doc, pointer), pointer, message });
  }
}
