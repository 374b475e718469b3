// Types for examples/feed-server.mjs (plain JavaScript so it runs with `node` as is).

export interface FeedServerOptions {
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Events per second per connection; 0 (default): as fast as the client reads. */
  rate?: number;
  /** Total ticks (seq 1..events), then the response ends; later requests get 204. Default: endless. */
  events?: number;
  /** Cut the connection mid-event after every N events sent on it. Default 0: never. */
  dropEvery?: number;
  /** `: ping` comment interval in ms. Default 5000; 0: none. */
  heartbeatMs?: number;
  /** The `retry:` value sent at the start of each response. Default 1000. */
  retryMs?: number;
  /** Seed of the ticks. Default 1. */
  seed?: number;
}

export interface FeedServerStats {
  connections: number;
  eventsSent: number;
  bytesSent: number;
  drops: number;
  /** The Last-Event-ID header of each request, in order (null when absent). */
  lastEventIds: (string | null)[];
}

export interface FeedServer {
  url: string;
  port: number;
  stats: FeedServerStats;
  close(): Promise<void>;
}

export function startFeedServer(options?: FeedServerOptions): Promise<FeedServer>;
/** The JSON data of tick `seq`. */
export function tickData(seq: number, seed?: number): string;
/** The whole event block of tick `seq` (id, event, data, blank line). */
export function tickEvent(seq: number, seed?: number): string;
