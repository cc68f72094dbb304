export { createBatcher, createLanedBatcher, type Lane } from "./batcher";
export { createSlots, type Slots } from "./slots";
