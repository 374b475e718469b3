// `eventsource-wasm/nats`: Server-Sent Events feeds into NATS JetStream, exactly once,
// shared across workers. The NATS client packages are optional peer dependencies, loaded
// on first use (a NatsDependencyError names them when they are missing).
export { ingest, Ingest } from "./ingest.js";
export type { FeedSpec, FeedStats, IngestOptions, IngestStats } from "./ingest.js";
export type { FeedCounters } from "./feed.js";
export { NatsDependencyError, NATS_PACKAGES } from "./deps.js";
export { NatsUnavailableError } from "./link.js";
export { FEED_NAME, HEADER_EVENT, HEADER_ID, HEADER_MSG_ID } from "./message.js";
