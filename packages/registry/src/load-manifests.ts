import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { compileIntegrations, type CompiledAction, type CompiledIntegration } from "./compile-actions";
import type { CompiledTrigger } from "./compile-triggers";
import { checkMetaSchema } from "./meta-schema";
import { checkSemantics, checkUniqueAcross } from "./semantic-checks";
import type { IntegrationManifest, ManifestProblem } from "./types";

export interface LoadOptions {
  /** The meta-schema to validate against; defaults to the repository's `integrations/manifest.schema.json`. */
  readonly metaSchemaPath?: string;
}

export interface CheckResult {
  readonly problems: readonly ManifestProblem[];
  readonly integrations: readonly CompiledIntegration[];
  readonly actions: readonly CompiledAction[];
  /** The manifests' triggers (platform triggers are the registry's, not here). */
  readonly triggers: readonly CompiledTrigger[];
}

/** The manifest files of a directory: `<dir>/*\/manifest.json`, sorted by integration directory. */
export function findManifestFiles(dir: string): { file: string; directoryName: string }[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`Integrations directory not found: ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ file: join(dir, entry.name, "manifest.json"), directoryName: entry.name }))
    .filter(({ file }) => existsSync(file))
    .sort((a, b) => (a.directoryName < b.directoryName ? -1 : 1));
}

/**
 * Runs every check on every manifest of `dir` (parse, meta-schema, semantic checks, uniqueness across manifests,
 * compilation of each schema and of each example, actions and triggers alike) and returns all problems found together with what compiled.
 * A manifest that fails the meta-schema is not checked further: the later checks rely on its shape.
 */
export function checkManifestDirectory(dir: string, options: LoadOptions = {}): CheckResult {
  const problems: ManifestProblem[] = [];
  const valid: { file: string; manifest: IntegrationManifest }[] = [];
  for (const { file, directoryName } of findManifestFiles(dir)) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      problems.push({ file, pointer: "", message: `not valid JSON: ${(error as Error).message}` });
      continue;
    }
    const meta = checkMetaSchema(file, doc, options.metaSchemaPath);
    if (meta.length > 0) {
      problems.push(...meta);
      continue;
    }
    const manifest = doc as IntegrationManifest;
    const semantic = checkSemantics(file, manifest, directoryName);
    problems.push(...semantic);
    if (semantic.length === 0) valid.push({ file, manifest });
  }
  problems.push(...checkUniqueAcross(valid));
  const compiled = compileIntegrations(valid);
  problems.push(...compiled.problems);
  return { problems, integrations: compiled.integrations, actions: compiled.actions, triggers: compiled.triggers };
}
