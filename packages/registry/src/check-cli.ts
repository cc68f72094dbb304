// `npm run integrations:check [dir]`: runs every manifest check (meta-schema, semantic checks, compilation,
// examples; actions and triggers) on integrations/*/manifest.json, prints each problem and exits 1 on any. CI runs the same checks
// through the test suite (packages/registry/test/integrations-check.test.ts).
import { checkManifestDirectory, formatProblem, INTEGRATIONS_DIR } from "./index";

const dir = process.argv[2] ?? INTEGRATIONS_DIR;

try {
  const result = checkManifestDirectory(dir);
  for (const problem of result.problems) console.error(formatProblem(problem));
  if (result.problems.length > 0) {
    console.error(`\n${result.problems.length} problem${result.problems.length === 1 ? "" : "s"} found.`);
    process.exitCode = 1;
  } else {
    const triggers = result.triggers.length;
    console.log(`${result.integrations.length} integration${result.integrations.length === 1 ? "" : "s"}, ${result.actions.length} actions, ${triggers} trigger${triggers === 1 ? "" : "s"}: all checks passed.`);
  }
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
