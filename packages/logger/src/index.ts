import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger };

/** Field names whose values are secret wherever they appear (credentials, tokens). Integrations add their own. */
export const BASE_SECRET_FIELDS = ["api_key", "apiKey", "password", "secret", "token", "credentials", "ciphertext", "access_token", "refresh_token"];

/** How deep below the log object a secret field is still found (pino's redaction has no recursive wildcard). */
const DEPTH = 4;

/**
 * The redaction paths for pino: the `authorization`, `cookie` and `x-api-key` headers of logged requests and every
 * listed secret field at the top level and up to DEPTH levels down.
 */
export function redactPaths(secretFields: readonly string[] = []): string[] {
  // Names that are not plain identifiers cannot be written as pino paths with wildcards; they never occur in our
  // manifests, and skipping them is safer than a path pino rejects at start.
  const fields = [...new Set([...BASE_SECRET_FIELDS, ...secretFields])].filter((f) => /^[A-Za-z_$][\w$]*$/.test(f));
  const paths = ["req.headers.authorization", "req.headers.cookie", 'req.headers["x-api-key"]', 'req.headers["proxy-authorization"]', "headers.authorization"];
  for (const field of fields) {
    for (let depth = 0; depth <= DEPTH; depth++) paths.push(`${"*.".repeat(depth)}${field}`);
  }
  return paths;
}

export interface LoggerSetup {
  readonly level: string;
  readonly secretFields?: readonly string[];
  /** Where lines go (default stdout); tests pass a capture stream. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

/** pino options shared by every process: level, redaction (values replaced by "[redacted]"), ISO timestamps. */
export function loggerOptions(setup: Omit<LoggerSetup, "destination">): LoggerOptions {
  return {
    level: setup.level,
    ...(setup.name === undefined ? {} : { name: setup.name }),
    redact: { paths: redactPaths(setup.secretFields), censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

export function createLogger(setup: LoggerSetup): Logger {
  return setup.destination === undefined ? pino(loggerOptions(setup)) : pino(loggerOptions(setup), setup.destination);
}
