// One NATS connection at a time, made again by us (not by the client's own reconnect) when
// it closes. Why: the client's reconnect discards what it had buffered for the old socket
// and sends what is published during the redial on the new one, so of two publishes in a
// row the first can be lost and the second stored, out of order. With a connection that
// never comes back, every publish that did not land fails, and each feed re-syncs with
// the log on the next connection before publishing again.

import type { NatsConnection } from "@nats-io/transport-node";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsModules } from "./deps.js";

/** The first connection failed: no server there, or no JetStream on it. */
export class NatsUnavailableError extends Error {
  override readonly name = "NatsUnavailableError";
  readonly code = "NATS_UNAVAILABLE";
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

export interface Session {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kv: KV;
  /** Resolves once this connection has closed, for whatever reason. */
  readonly closed: Promise<void>;
}

export interface LinkOptions {
  servers: string[];
  name: string;
  stream: string;
  subject: string;
  bucket: string;
  leaseTtl: number;
  /** Ms to wait for a connection (default 5000). */
  connectTimeout?: number;
}

const RETRY_MIN = 100;
const RETRY_MAX = 2000;

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : "";
  return cause && !error.message.includes(cause) ? `${error.message} (${cause})` : error.message;
}

export class Link {
  readonly #nats: NatsModules;
  readonly #o: LinkOptions;
  #session: Session | null = null;
  #stopped = false;
  #waiters: (() => void)[] = [];
  /** Called with each new session (after the stream and bucket are checked). */
  onSession: (session: Session) => void = () => {};
  /** Called when the session closed unexpectedly. */
  onLost: (error: unknown) => void = () => {};

  constructor(nats: NatsModules, options: LinkOptions) {
    this.#nats = nats;
    this.#o = options;
  }

  get session(): Session | null {
    return this.#session;
  }

  /** Resolves with a live session (waits across a reconnection), or null once stopped. */
  async ready(): Promise<Session | null> {
    while (this.#session === null && !this.#stopped) await new Promise<void>((r) => this.#waiters.push(r));
    return this.#session;
  }

  /** The first connection: a clear error when there is no server or no JetStream. */
  async start(): Promise<void> {
    this.#adopt(await this.#open());
  }

  async #open(): Promise<Session> {
    const { connect } = this.#nats.transport;
    const nc = await connect({
      servers: this.#o.servers,
      name: this.#o.name,
      reconnect: false,
      timeout: this.#o.connectTimeout ?? 5000,
      // A server that vanished without closing the socket is noticed after two missed
      // pings: 20-30 s, not the client's default of minutes.
      pingInterval: 10_000,
      maxPingOut: 2,
    }).catch((error: unknown) => {
      throw new NatsUnavailableError(
        `cannot connect to NATS at ${this.#o.servers.join(", ")}: ${errorText(error)}` +
          " (is nats-server running? It needs JetStream: nats-server -js)",
        error,
      );
    });
    try {
      const jsm = await this.#nats.jetstream.jetstreamManager(nc).catch((error: unknown) => {
        throw new NatsUnavailableError(
          `NATS at ${this.#o.servers.join(", ")} has no JetStream: ${errorText(error)} (start nats-server with -js)`,
          error,
        );
      });
      await this.#ensureStream(jsm).catch((error: unknown) => {
        if (error instanceof NatsUnavailableError) throw error;
        throw new NatsUnavailableError(`stream ${this.#o.stream}: ${errorText(error)}`, error);
      });
      const js = this.#nats.jetstream.jetstream(nc);
      const kv = await new this.#nats.kv.Kvm(js)
        .create(this.#o.bucket, { ttl: this.#o.leaseTtl })
        .catch((error: unknown) => {
          throw new NatsUnavailableError(`lease bucket ${this.#o.bucket}: ${errorText(error)}`, error);
        });
      const status = await kv.status();
      if (status.ttl !== this.#o.leaseTtl) {
        throw new NatsUnavailableError(
          `lease bucket ${this.#o.bucket} has a TTL of ${status.ttl} ms, not ${this.#o.leaseTtl} ms: ` +
            "every worker must use the same --lease-ttl (or another bucket)",
        );
      }
      const closed = nc.closed().then(() => undefined);
      return { nc, js, jsm, kv, closed };
    } catch (error) {
      await nc.close().catch(() => {});
      throw error;
    }
  }

  async #ensureStream(jsm: JetStreamManager): Promise<void> {
    const wanted = `${this.#o.subject}.>`;
    try {
      const info = await jsm.streams.info(this.#o.stream);
      const subjects = info.config.subjects ?? [];
      if (!subjects.includes(wanted) && !subjects.includes(">")) {
        throw new NatsUnavailableError(
          `stream ${this.#o.stream} exists with subjects ${JSON.stringify(subjects)}, not ${wanted}`,
        );
      }
    } catch (error) {
      if (error instanceof NatsUnavailableError) throw error;
      if (!(error instanceof this.#nats.jetstream.JetStreamApiError) || error.code !== 10059) throw error;
      // Not found: create it. Another worker may win the race; then it exists, which is fine.
      await jsm.streams.add({ name: this.#o.stream, subjects: [wanted] }).catch(async (e: unknown) => {
        await jsm.streams.info(this.#o.stream).catch(() => Promise.reject(e));
      });
    }
  }

  #adopt(session: Session): void {
    this.#session = session;
    for (const wake of this.#waiters.splice(0)) wake();
    this.onSession(session);
    void session.closed.then(() => {
      if (this.#session !== session) return;
      this.#session = null;
      if (this.#stopped) return;
      this.onLost(new Error("NATS connection closed"));
      void this.#reconnect();
    });
  }

  async #reconnect(): Promise<void> {
    let delay = RETRY_MIN;
    while (!this.#stopped) {
      try {
        const session = await this.#open();
        if (this.#stopped) {
          await session.nc.close().catch(() => {});
          return;
        }
        this.#adopt(session);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, RETRY_MAX);
      }
    }
  }

  /** Flush and close; no reconnection after this. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const wake of this.#waiters.splice(0)) wake();
    const session = this.#session;
    this.#session = null;
    if (session) await session.nc.drain().catch(() => session.nc.close().catch(() => {}));
  }
}
