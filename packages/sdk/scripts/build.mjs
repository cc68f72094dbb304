// Builds the publishable package into dist/: ESM JavaScript and .d.ts from src/ (tsc), and a package.json whose
// exports point at them. In the repository, package.json's exports point at src/ (workspace packages and tests use
// the source); publish the built one: `npm run build -w @nagent/sdk && npm publish packages/sdk/dist`.
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });

const source = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const published = {
  name: source.name,
  version: source.version,
  description: source.description,
  license: source.license,
  type: "module",
  exports: { ".": { types: "./index.d.ts", import: "./index.js" } },
  types: "./index.d.ts",
  sideEffects: false,
  engines: source.engines,
  dependencies: source.dependencies,
};
writeFileSync(join(dist, "package.json"), `${JSON.stringify(published, null, 2)}\n`);
copyFileSync(join(root, "README.md"), join(dist, "README.md"));
console.log(`built ${source.name}@${source.version} into ${dist}`);
