import { fileURLToPath } from "node:url";

/** The repository's integrations/ folder: one `<slug>/manifest.json` per integration. */
export const INTEGRATIONS_DIR = fileURLToPath(new URL("../../../integrations", import.meta.url));
