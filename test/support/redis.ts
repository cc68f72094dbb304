import { randomBytes } from "node:crypto";
import { TEST_REDIS_URL } from "./env";

export { TEST_REDIS_URL };

/** A BullMQ key prefix of the test's own, so tests sharing one Redis never see each other's jobs. */
export function testQueuePrefix(): string {
  return `nt${randomBytes(5).toString("hex")}`;
}
