import type { TriggerManifest } from "./types";
import platform from "./platform-triggers.json" with { type: "json" };

/**
 * Triggers the platform itself emits (not an integration's): integration slug `nagent`. They are data, like the
 * manifests' triggers (`platform-triggers.json`, the `triggers` section of a manifest in form), and go through the
 * same checks and compilation when the registry loads (a broken one is a programming error: `loadRegistry` throws).
 * A manifest may not reuse their slugs. Their payloads are open (`additionalProperties: true`), like the manifests':
 * a field added later is a backward-compatible change for subscribers.
 */
export const PLATFORM_INTEGRATION = "nagent";

/**
 * A JSON import types `"source": "platform"` as a plain string, hence the assertion; the schemas, filters and examples
 * are checked when the registry loads (`compilePlatformTriggers`).
 */
export const PLATFORM_TRIGGERS: readonly TriggerManifest[] = platform.triggers as readonly TriggerManifest[];
