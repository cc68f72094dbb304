import { ConfigError, loadConfig, type Config } from "./load-config";
import { readEnvironment } from "./env-file";

/** The git-ignored file of development settings and generated secrets, relative to the repository root. */
export const ENV_FILE = ".env.local";

/**
 * For process entry points only: reads the environment (process.env over `.env.local` outside production,
 * generating development secrets when asked), validates it, and on a problem prints the variables at fault and exits
 * with status 1.
 */
export function configFromProcess(options: { generate: boolean; secrets?: boolean }): {
  config: Config;
  env: Readonly<Record<string, string | undefined>>;
  generated: readonly string[];
} {
  const { env, generated } = readEnvironment(process.env, { envFile: ENV_FILE, generate: options.generate });
  try {
    return { config: loadConfig(env, { secrets: options.secrets ?? true }), env, generated };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
