// One feed read by this worker: an EventSource, and a window of publishes that are not
// acknowledged yet. Events are published in order with at most `maxUnacked` unacknowledged;
// at the bound the loop stops pulling from `source.events()`, whose buffer fills, and the
// source pauses its socket. A failed publish stops the window; once nothing is in flight,
// the feed re-syncs with the log (the last message on its subject says which of the
// unacknowledged events landed) and republishes the rest, in order.

import { EventSource, type EventSourceOptions } from "../index.js";
import type { NatsModules } from "./deps.js";
import type { Link } from "./link.js";
import { HEADER_EVENT, HEADER_ID, HEADER_MSG_ID, MessageIds, resumePointOf, type ResumePoint } from "./message.js";

const QUEUED = 0;
const INFLIGHT = 1;
const ACKED = 2;
const FAILED = 3;

interface Pending {
  msgId: string;
  type: string;
  id: string;
  data: string;
  state: typeof QUEUED | typeof INFLIGHT | typeof ACKED | typeof FAILED;
}

export interface FeedContext {
  readonly nats: NatsModules;
  readonly link: Link;
  readonly stream: string;
  /** The feed's subject: `<subject>.<feed name>`. */
  readonly subject: string;
  /** Unique per reading session: names events without an id. */
  readonly session: string;
  readonly maxUnacked: number;
  readonly publishTimeout: number;
  readonly source: Omit<EventSourceOptions, "lastEventId" | "signal">;
  /** False while the lease may have expired (a renewal is late): nothing is published then. */
  leaseValid(): boolean;
  log(message: string): void;
}

export interface FeedCounters {
  /** Events received from the source. */
  received: number;
  /** Events stored in the stream by this worker (acknowledged, or found in the log on re-sync). */
  published: number;
  /** Publishes the stream dropped as duplicates (Nats-Msg-Id seen in its window). */
  duplicates: number;
  /** Events not published because they were already handed out (resent after a reconnection). */
  skipped: number;
  /** Times the window was re-synced with the log after a failed publish. */
  resyncs: number;
  unacked: number;
  lastEventAt: number | null;
  lastEventId: string;
  bytesReceived: number;
  lastError: string | null;
}

/** The counters of a feed that has not run here (yet). */
export function zeroCounters(): FeedCounters {
  return {
    received: 0,
    published: 0,
    duplicates: 0,
    skipped: 0,
    resyncs: 0,
    unacked: 0,
    lastEventAt: null,
    lastEventId: "",
    bytesReceived: 0,
    lastError: null,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class FeedRunner {
  readonly name: string;
  readonly url: string;
  readonly #ctx: FeedContext;
  readonly #pending: Pending[] = [];
  #inflight = 0;
  #fault = false;
  #resyncing = false;
  #stopping = false;
  #source: EventSource | null = null;
  #sourceBytes = 0;
  #wake: (() => void) | null = null;
  readonly counters: FeedCounters = zeroCounters();
  readonly done: Promise<void>;

  constructor(name: string, url: string, ctx: FeedContext) {
    this.name = name;
    this.url = url;
    this.#ctx = ctx;
    this.done = this.#run();
  }

  /** Stop reading, wait (at most `timeout` ms) for the unacknowledged publishes to land. */
  async drain(timeout: number): Promise<void> {
    this.#stop();
    const until = Date.now() + timeout;
    while (this.#pending.length > 0 && Date.now() < until) await this.#nap(50);
    // With NATS away, the loop may still wait for a connection: do not wait past the bound.
    await Promise.race([this.done, sleep(Math.max(0, until - Date.now()))]);
  }

  /** The lease is gone: stop at once; whatever is not acknowledged is the next owner's. */
  abandon(): void {
    this.#stop();
    this.#pending.length = 0;
  }

  #stop(): void {
    this.#stopping = true;
    this.#source?.close();
    this.#poke();
  }

  get unacked(): number {
    return this.#pending.length;
  }

  snapshot(): FeedCounters {
    return {
      ...this.counters,
      unacked: this.#pending.length,
      bytesReceived: this.#sourceBytes + (this.#source?.stats.bytes ?? 0),
    };
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #nap(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #resumePoint(): Promise<ResumePoint | null> {
    for (let delay = 100; !this.#stopping; delay = Math.min(delay * 2, 2000)) {
      const session = await this.#ctx.link.ready();
      if (session === null) return null;
      try {
        const last = await session.jsm.streams.getMessage(this.#ctx.stream, { last_by_subj: this.#ctx.subject });
        if (last === null) return resumePointOf(this.name, undefined, undefined);
        return resumePointOf(this.name, last.header.get(HEADER_MSG_ID), last.header.get(HEADER_ID));
      } catch (error) {
        this.counters.lastError = `reading the last message: ${text(error)}`;
        await sleep(delay);
      }
    }
    return null;
  }

  async #run(): Promise<void> {
    const resume = await this.#resumePoint();
    if (resume === null) return;
    const ids = new MessageIds(this.name, this.#ctx.session, resume);
    let lastEventId = resume.lastEventId;
    this.counters.lastEventId = lastEventId;
    let delay = 500;
    while (!this.#stopping) {
      const source = new EventSource(this.url, { ...this.#ctx.source, lastEventId });
      this.#source = source;
      // Where each connection starts in the stream of dispatched events, and the id it
      // resumed from: the server resends from after that id, and the numbering of events
      // without an id of their own starts again there.
      const opens: { at: number; id: string }[] = [];
      source.addEventListener("open", () => {
        opens.push({ at: source.stats.events, id: source.lastEventId });
        delay = 500;
      });
      source.addEventListener("error", (e) => {
        this.counters.lastError = e.message || e.code;
      });
      let consumed = 0;
      try {
        for await (const event of source.events({ maxBuffered: Math.min(this.#ctx.maxUnacked, 1024) })) {
          consumed++;
          while (opens.length > 0 && opens[0]!.at < consumed) ids.reconnected(opens.shift()!.id);
          if (this.#stopping) break;
          const c = this.counters;
          c.received++;
          c.lastEventAt = Date.now();
          c.lastEventId = lastEventId = event.lastEventId;
          const msgId = ids.next(event.lastEventId);
          if (msgId === null) {
            c.skipped++;
            continue;
          }
          await this.#room();
          if (this.#stopping) break;
          const p: Pending = { msgId, type: event.type, id: event.lastEventId, data: String(event.data), state: QUEUED };
          this.#pending.push(p);
          this.#send(p);
        }
      } catch (error) {
        // The source failed for good (an HTTP status, a wrong content type, ...): a worker
        // holding a feed keeps trying, with a growing delay.
        this.counters.lastError = text(error);
        this.#ctx.log(`feed ${this.name}: ${text(error)}; retrying in ${delay} ms`);
      }
      this.#sourceBytes += source.stats.bytes;
      this.#source = null;
      source.close();
      if (this.#stopping) break;
      await this.#nap(delay);
      delay = Math.min(delay * 2, 30_000);
    }
  }

  /** Wait for a free slot in the window, a healthy link and a valid lease. */
  async #room(): Promise<void> {
    while (
      !this.#stopping &&
      (this.#pending.length >= this.#ctx.maxUnacked ||
        this.#fault ||
        this.#ctx.link.session === null ||
        !this.#ctx.leaseValid())
    ) {
      await this.#nap(100);
    }
  }

  #send(p: Pending): void {
    const session = this.#ctx.link.session;
    if (session === null || this.#fault) {
      this.#fault = true;
      this.#resyncWhenSettled();
      return;
    }
    p.state = INFLIGHT;
    this.#inflight++;
    const headers = this.#ctx.nats.transport.headers();
    headers.set(HEADER_EVENT, p.type);
    if (p.id !== "") headers.set(HEADER_ID, p.id);
    session.js
      .publish(this.#ctx.subject, p.data, { msgID: p.msgId, headers, timeout: this.#ctx.publishTimeout })
      .then(
        (ack) => {
          this.#inflight--;
          p.state = ACKED;
          if (ack.duplicate) this.counters.duplicates++;
          else this.counters.published++;
          // Acks come in order on one connection; an ack behind a failed publish waits.
          while (this.#pending.length > 0 && this.#pending[0]!.state === ACKED) this.#pending.shift();
          this.#resyncWhenSettled();
          this.#poke();
        },
        (error: unknown) => {
          this.#inflight--;
          p.state = FAILED;
          this.#fault = true;
          this.counters.lastError = `publish: ${text(error)}`;
          this.#resyncWhenSettled();
        },
      );
  }

  #resyncWhenSettled(): void {
    if (!this.#fault || this.#inflight > 0 || this.#resyncing) return;
    this.#resyncing = true;
    void this.#resync().finally(() => {
      this.#resyncing = false;
      // A republish that could not even be sent (the link dropped again) needs another round.
      this.#resyncWhenSettled();
      this.#poke();
    });
  }

  /**
   * Nothing is in flight. On one connection the stream stores messages in the order they
   * were sent, so the last message on the subject tells which unacknowledged events landed:
   * all of them up to it. The rest are published again, in order.
   */
  async #resync(): Promise<void> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      if (this.#pending.length === 0) {
        this.#fault = false;
        return;
      }
      const session = await this.#ctx.link.ready();
      if (session === null) {
        // The link was stopped: nothing will be published again.
        this.#pending.length = 0;
        this.#fault = false;
        return;
      }
      try {
        const last = await session.jsm.streams.getMessage(this.#ctx.stream, { last_by_subj: this.#ctx.subject });
        const landed = last?.header.get(HEADER_MSG_ID);
        const at = landed ? this.#pending.findIndex((p) => p.msgId === landed) : -1;
        for (let i = 0; i <= at; i++) if (this.#pending[i]!.state !== ACKED) this.counters.published++;
        this.#pending.splice(0, at + 1);
        for (let i = this.#pending.length - 1; i >= 0; i--) if (this.#pending[i]!.state === ACKED) this.#pending.splice(i, 1);
        this.counters.resyncs++;
        this.#fault = false;
        for (const p of this.#pending) this.#send(p);
        return;
      } catch (error) {
        this.counters.lastError = `re-sync: ${text(error)}`;
        await sleep(delay);
      }
    }
  }
}
