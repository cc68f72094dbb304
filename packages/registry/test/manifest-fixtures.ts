// Builds manifest directories for the registry's tests: the valid fixture as it is, or a broken copy of it, each
// written to a fresh temporary directory laid out as integrations/<slug>/manifest.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { checkManifestDirectory, formatProblem } from "@nagent/registry";

export const FIXTURES_DIR = fileURLToPath(new URL("./fixtures", import.meta.url));
export const VALID_DIR = join(FIXTURES_DIR, "valid");

// Tests reach into manifests freely; the loader under test is what checks their shape.
export type Doc = any;

/** A fresh deep copy of the valid demo manifest. */
export function demoManifest(): Doc {
  return JSON.parse(readFileSync(join(VALID_DIR, "demo_app", "manifest.json"), "utf8"));
}

const created: string[] = [];

/** Writes manifests (by directory name) to a new temporary integrations directory and returns its path. */
export function writeIntegrations(manifests: Record<string, Doc | string>): string {
  const dir = mkdtempSync(join(tmpdir(), "nagent-registry-"));
  created.push(dir);
  for (const [name, doc] of Object.entries(manifests)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "manifest.json"), typeof doc === "string" ? doc : JSON.stringify(doc, null, 2));
  }
  return dir;
}

/** The demo manifest after `mutate`, alone in a temporary integrations directory. */
export function brokenDemo(mutate: (doc: Doc) => void): string {
  const doc = demoManifest();
  mutate(doc);
  return writeIntegrations({ demo_app: doc });
}

export function removeTemporaryDirectories(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The action of the demo manifest with that slug. */
export function actionOf(doc: Doc, slug: string): Doc {
  return doc.actions.find((a: Doc) => a.slug === slug);
}

/** A broken copy of the demo manifest (`mutate` makes one mistake) and the one problem it must be refused for. */
export interface BrokenCase {
  readonly name: string;
  readonly mutate: (doc: Doc) => void;
  /** The pointer every problem carries. */
  readonly pointer: string;
  /** The action (or trigger) every problem names; absent: none. */
  readonly action?: string;
  readonly trigger?: string;
  /** Matches the problems' messages. */
  readonly message: RegExp;
}

/** Checks that the demo manifest broken as `c` says is refused for that mistake alone. */
export function expectRefused(c: BrokenCase): void {
  const problems = checkManifestDirectory(brokenDemo(c.mutate)).problems;
  expect(problems.length, problems.map(formatProblem).join("\n")).toBeGreaterThan(0);
  for (const p of problems) {
    expect(p.pointer, formatProblem(p)).toBe(c.pointer);
    expect(p.action, formatProblem(p)).toBe(c.action);
    expect(p.trigger, formatProblem(p)).toBe(c.trigger);
    expect(p.file).toMatch(/demo_app\/manifest\.json$/);
  }
  expect(problems.map((p) => p.message).join("\n")).toMatch(c.message);
}
