import { ConfigError } from "./load-config";

/** Configuration of the Scale AI sandbox process, which needs neither PostgreSQL, Redis nor the platform secrets. */
export interface SandboxConfig {
  readonly host: string;
  readonly port: number;
  /** API keys the sandbox accepts at start; each is its own separate world. */
  readonly keys: readonly string[];
  readonly logLevel: string;
}

export function loadSandboxConfig(env: Readonly<Record<string, string | undefined>>): SandboxConfig {
  const problems: string[] = [];
  const portText = env["SANDBOX_PORT"] || "4010";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push("SANDBOX_PORT: must be an integer from 0 to 65535");
  const keys = (env["SANDBOX_KEYS"] ?? "").split(",").map((k) => k.trim()).filter(Boolean);
  for (const key of keys) {
    if (!/^(live|test)_[A-Za-z0-9_-]{1,200}$/.test(key)) problems.push("SANDBOX_KEYS: every key must look like live_… or test_… (letters, digits, _ and -)");
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return { host: env["SANDBOX_HOST"] || "127.0.0.1", port, keys, logLevel: env["LOG_LEVEL"] || "info" };
}
