import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { INTEGRATIONS_DIR } from "@nagent/registry";
import type { FastifyInstance } from "fastify";
import { startOtherApi, type TestApp } from "./app";

/** A manifest as tests change it: they reach into it freely, and the loader checks its shape. */
export type ManifestDoc = any;

/**
 * Another API process over the test app's database serving a changed Scale AI manifest (as during a rolling deploy):
 * the manifest after `mutate`, in a temporary integrations directory. Both are gone when the test finishes.
 */
export async function startApiWithChangedManifest(t: TestApp, mutate: (doc: ManifestDoc) => void): Promise<FastifyInstance> {
  const doc = JSON.parse(readFileSync(join(INTEGRATIONS_DIR, "scale-ai", "manifest.json"), "utf8")) as ManifestDoc;
  mutate(doc);
  const dir = mkdtempSync(join(tmpdir(), "nagent-manifests-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "scale-ai"));
  writeFileSync(join(dir, "scale-ai", "manifest.json"), JSON.stringify(doc));
  const other = await startOtherApi(t, { manifestsDir: dir, db: t.db });
  onTestFinished(() => other.close());
  return other.app;
}
