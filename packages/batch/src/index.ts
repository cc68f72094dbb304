export { createBatcher, createLanedBatcher, type Lane } from "./batcher";
