import { pino, type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger, type LoggerOptions } from "pino";

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

type LogArgs = [unknown, ...unknown[]];
type Log = (...args: LogArgs) => void;

/**
 * `parent.child(bindings, options)`, made on first use. pino's child() runs its bindings through every redaction path
 * when it is made (with ours, a wildcard path per secret field and depth: ~9 µs, 7 % of the API's CPU per async
 * execute in bench/execute's (d)), and most requests never log at an enabled level. A log method of a disabled level
 * does nothing, as pino's own does; `level` and `isLevelEnabled` answer from the parent; a log at an enabled level, or
 * `child()`, makes the child and forwards to it, so what is logged (bindings, redaction, serializers) is exactly what
 * the child would log. A class, not closures: a request makes one object and nothing else.
 */
export class LazyChildLogger {
  private made: Logger | undefined;
  constructor(private readonly parent: Logger, private readonly bindings: Bindings, private readonly options: ChildLoggerOptions = {}) {}

  private real(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }
  private logAt(level: "fatal" | "error" | "warn" | "info" | "debug" | "trace", args: LogArgs): void {
    if (!this.isLevelEnabled(level)) return;
    const real = this.real();
    (real[level] as Log).apply(real, args);
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level ?? "info";
  }
  set level(level: string) {
    this.real().level = level;
  }
  isLevelEnabled(level: string): boolean {
    // Fastify's loggers need not be pino (tests pass their own): without pino's levels, ask the logger, or log.
    const logger: Partial<Logger> = this.made ?? this.parent;
    const values = this.made ? undefined : this.parent.levels?.values;
    if (values === undefined) return typeof logger.isLevelEnabled === "function" ? logger.isLevelEnabled(level) : true;
    return (values[level] ?? Infinity) >= (values[this.level] ?? Infinity);
  }
  fatal(...args: LogArgs): void { this.logAt("fatal", args); }
  error(...args: LogArgs): void { this.logAt("error", args); }
  warn(...args: LogArgs): void { this.logAt("warn", args); }
  info(...args: LogArgs): void { this.logAt("info", args); }
  debug(...args: LogArgs): void { this.logAt("debug", args); }
  trace(...args: LogArgs): void { this.logAt("trace", args); }
  silent(): void {}
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real().child(bindings, options);
  }
}
