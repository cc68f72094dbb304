export { loadConfig, ConfigError, type Config } from "./load-config";
export { EnvSchema, type Env } from "./schema";
export { parseMasterKeys, type MasterKey } from "./master-keys";
export { readEnvironment, type Environment } from "./env-file";
export { loadSandboxConfig, type SandboxConfig } from "./sandbox-config";
export { configFromProcess, ENV_FILE } from "./boot";
