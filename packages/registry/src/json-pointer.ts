/** JSON pointers (RFC 6901): the one way this package names a place in a document. */

/** Escapes one reference token (`~` → `~0`, `/` → `~1`). */
export function escapeToken(token: string | number): string {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function unescapeToken(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** Builds a pointer from raw (unescaped) tokens: `["a/b", 0]` → `/a~1b/0`. */
export function toPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${escapeToken(t)}`).join("");
}

/** Splits a pointer into raw tokens; `""` is the whole document. Throws on a pointer that does not start with `/`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`Not a JSON pointer: ${pointer}`);
  return pointer.slice(1).split("/").map(unescapeToken);
}

/** Appends raw tokens to a pointer. */
export function appendPointer(pointer: string, ...tokens: (string | number)[]): string {
  return pointer + toPointer(tokens);
}

/** The value at `pointer` inside `doc`, or `undefined` when the path does not exist. */
export function getAtPointer(doc: unknown, pointer: string): unknown {
  let current: unknown = doc;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(current)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (isPlainObject(current)) {
      if (!Object.hasOwn(current, token)) return undefined;
      current = current[token];
    } else {
      return undefined;
    }
  }
  return current;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
