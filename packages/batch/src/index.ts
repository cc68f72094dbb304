export { createBatcher } from "./batcher";
