import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { checkManifestDirectory, formatProblem, INTEGRATIONS_DIR } from "@nagent/registry";
import { actionOf, brokenDemo, removeTemporaryDirectories, VALID_DIR } from "./manifest-fixtures";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CLI = fileURLToPath(new URL("../src/check-cli.ts", import.meta.url));

afterAll(removeTemporaryDirectories);

/** Runs `tsx check-cli.ts dir` as `npm run integrations:check` would; resolves with its exit code and output. */
async function check(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(`${ROOT}node_modules/.bin/tsx`, [CLI, dir], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("npm run integrations:check", () => {
  it("finds no problem in the repository's integrations (CI runs the checks through this test)", () => {
    expect(checkManifestDirectory(INTEGRATIONS_DIR).problems.map(formatProblem)).toEqual([]);
  });

  it("exits 0 on valid manifests and 1 with every problem printed on broken ones", async () => {
    const ok = await check(VALID_DIR);
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(/1 integration, 9 actions, 2 triggers: all checks passed/) });

    const broken = await check(
      brokenDemo((d) => {
        delete actionOf(d, "DEMO_CREATE_BATCH").input.properties.name.maxLength;
        d.auth.hint = "key";
      }),
    );
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/demo_app\/manifest\.json: DEMO_CREATE_BATCH: \/actions\/0\/input\/properties\/name: string without maxLength/);
    expect(broken.stderr).toMatch(/demo_app\/manifest\.json: \/auth\/hint: hint field "key" is not a property of auth\.credentials/);
    expect(broken.stderr).toMatch(/2 problems found/);
  });
});
