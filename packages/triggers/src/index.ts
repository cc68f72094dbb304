export { DELIVERY_RETRY_DELAYS_MS, nextRetryDelay, parseRetryAfterMs } from "./schedule";
export { newSigningSecret, secretHint, signMessage, type SignedHeaders } from "./sign";
export { TRIGGER_SIGNING_SECRET, sealSubscriptionSecret, openSubscriptionSecret } from "./secrets";
export { SCALE_TRIGGERS, eventsOfTask, type TaskEvent } from "./scale-events";
export { emitEvent, emitEvents, emitEventsInTransaction, type EmittedEvent, type FilterMatcher, type NewEvent } from "./emit";
export { createDeliveryProducer, deliveryJobId, type DeliveryProducer } from "./producer";
export { createDeliveryProcessor, deliveryBody, HOLD_DELIVERY, RECORD_DELIVERY_ATTEMPT, SUBSCRIPTION_DISABLED_TRIGGER, subscriptionDisabledDedupKey, subscriptionDisabledEvent, RESPONSE_EXCERPT_BYTES, type AttemptOutcome, type DeliverDeps } from "./deliver";
export { createDeliverySweeper } from "./sweep";
export { createConnectionPoller, LIST_TASKS_ACTION, type PollDeps } from "./poll";
export {
  connectionEventDedupKey, connectionStatusEvent, createConnectionStatusCatchUp, createConnectionStatusEmitter,
  type ConnectionStatusCatchUpOptions, type ConnectionStatusEmitter, type ConnectionStatusEmitterDeps,
} from "./connection-status";
