// One feed read by this worker: an EventSource, and a window of publishes that are not
// acknowledged yet. The records of one network chunk (a `batches()` array) are published in
// one turn, so the client flushes them in one socket write; each carries a reply subject of
// this feed's own, and the acks, which JetStream sends in the order it stored the messages,
// are matched in order on one subscription. At most `maxUnacked` are unacknowledged; at the
// bound the loop stops pulling from `source.batches()`, whose buffer fills, and the source
// pauses its socket. A failed publish (an error ack, no ack within `publishTimeout`, the
// connection lost) stops the window; once nothing is in flight, the feed re-syncs with the
// log (the last message on its subject says which of the unacknowledged events landed) and
// republishes the rest, in order.
//
// Not `js.publish`: it makes a request (an inbox, a timer and two error objects for their
// stack traces) per message, and a loop awaiting between events flushes each on its own:
// measured 7,166 against 55,417 events/s for this path (issue 21).

import { EventSource, type EventSourceOptions, type ParsedEvent } from "../index.js";
import type { MsgHdrs } from "@nats-io/transport-node";
import type { NatsModules } from "./deps.js";
import type { Link, Session } from "./link.js";
import { ackOf, DUPLICATE, Frame, HEADER_ID, HEADER_MSG_ID, MessageIds, REFUSED, resumePointOf, type ResumePoint } from "./message.js";

const QUEUED = 0;
const INFLIGHT = 1;
const ACKED = 2;
const FAILED = 3;

interface Pending {
  readonly msgId: string;
  readonly event: ParsedEvent;
  state: typeof QUEUED | typeof INFLIGHT | typeof ACKED | typeof FAILED;
  /** Ms (Date.now) of its last publish. */
  sentAt: number;
}

/** The acks' subscription on one connection; `reply` changes at every re-sync. */
interface Wire {
  readonly session: Session;
  readonly inbox: string;
  readonly unsubscribe: () => void;
  reply: string;
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
  leaseValid(now: number): boolean;
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
  /** The window: `#window[#first..]`, oldest first; `#window[#ackAt]` is the next to be acked. */
  #window: Pending[] = [];
  #first = 0;
  #ackAt = 0;
  #inflight = 0;
  #wire: Wire | null = null;
  #generation = 0;
  readonly #frame = new Frame();
  #timer: NodeJS.Timeout | null = null;
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
    while (this.unacked > 0 && Date.now() < until) await this.#nap(50);
    // With NATS away, the loop may still wait for a connection: do not wait past the bound.
    await Promise.race([this.done, sleep(Math.max(0, until - Date.now()))]);
    this.#unwire();
  }

  /** The lease is gone: stop at once; whatever is not acknowledged is the next owner's. */
  abandon(): void {
    this.#stop();
    this.#clear();
    this.#unwire();
  }

  #clear(): void {
    this.#window = [];
    this.#first = this.#ackAt = this.#inflight = 0;
  }

  #stop(): void {
    this.#stopping = true;
    this.#source?.close();
    this.#poke();
  }

  get unacked(): number {
    return this.#window.length - this.#first;
  }

  snapshot(): FeedCounters {
    return {
      ...this.counters,
      unacked: this.unacked,
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
      const chunk: Pending[] = [];
      try {
        reading: for await (const batch of source.batches({ bufferSize: Math.min(this.#ctx.maxUnacked, 1024) })) {
          const c = this.counters;
          // One clock read per chunk: the lease check and the publishes' time.
          let now = Date.now();
          for (let i = 0; i < batch.length; i++) {
            const event = batch[i]!;
            consumed++;
            while (opens.length > 0 && opens[0]!.at < consumed) ids.reconnected(opens.shift()!.id);
            if (this.#stopping) {
              this.#sendAll(chunk, now);
              break reading;
            }
            c.received++;
            c.lastEventId = lastEventId = event.lastEventId;
            const msgId = ids.next(lastEventId);
            if (msgId === null) {
              c.skipped++;
              continue;
            }
            if (!this.#open(now)) {
              this.#sendAll(chunk, now);
              await this.#room();
              if (this.#stopping) break reading;
              now = Date.now();
            }
            const p: Pending = { msgId, event, state: QUEUED, sentAt: now };
            this.#window.push(p);
            chunk.push(p);
          }
          this.#sendAll(chunk, now);
          c.lastEventAt = now;
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

  /** A free slot in the window, a healthy link and a valid lease. */
  #open(now: number): boolean {
    return this.unacked < this.#ctx.maxUnacked && !this.#fault && this.#ctx.link.session !== null && this.#ctx.leaseValid(now);
  }

  /** Wait until the window is open again. */
  async #room(): Promise<void> {
    while (!this.#stopping && !this.#open(Date.now())) await this.#nap(100);
  }

  /** Publish `chunk` (in the window already), encoded at once; after a failure the rest wait for the re-sync. */
  #sendAll(chunk: Pending[], now: number): void {
    if (chunk.length === 0) return;
    if (!this.#fault) this.#frame.encodeAll(chunk);
    for (let i = 0; i < chunk.length; i++) {
      this.#send(chunk[i]!, now, i);
      if (this.#fault) break;
    }
    chunk.length = 0;
  }

  /** Publish `p`, message `i` of the last `encodeAll`, with this feed's reply subject; the client flushes at the end of the turn. */
  #send(p: Pending, now: number, i: number): void {
    const wire = this.#fault ? null : this.#wired();
    if (wire !== null) {
      try {
        const frame = this.#frame;
        frame.at(i, p);
        wire.session.nc.publish(this.#ctx.subject, frame.data, { reply: wire.reply, headers: frame.headers as unknown as MsgHdrs });
        p.state = INFLIGHT;
        p.sentAt = now;
        if (this.#inflight++ === 0 && this.#timer === null) this.#arm(this.#ctx.publishTimeout);
        return;
      } catch (error) {
        // Closed, or larger than the server's max_payload: never thrown into the read loop,
        // which would leave `p` in the window unsent, ahead of publishes that get acks.
        this.counters.lastError = `publish: ${text(error)}`;
      }
    }
    this.#fault = true;
    this.#resyncWhenSettled();
  }

  /** The acks' subscription on the current connection, made on first use. */
  #wired(): Wire | null {
    const session = this.#ctx.link.session;
    if (session === null) return null;
    if (this.#wire?.session === session) return this.#wire;
    this.#unwire();
    const inbox = this.#ctx.nats.transport.createInbox();
    let sub;
    try {
      sub = session.nc.subscribe(`${inbox}.*`, { callback: (error, m) => this.#onAck(error, m.subject, m.data) });
    } catch {
      return null; // closed or draining: the next session
    }
    const wire: Wire = { session, inbox, reply: `${inbox}.${this.#generation}`, unsubscribe: () => sub.unsubscribe() };
    this.#wire = wire;
    // A connection that closes takes the acks of what is in flight with it.
    void session.closed.then(() => {
      if (this.#wire === wire) this.#lost("publish: NATS connection closed");
    });
    return wire;
  }

  #unwire(): void {
    try {
      this.#wire?.unsubscribe();
    } catch {
      // The connection is closed already.
    }
    this.#wire = null;
  }

  #onAck(error: Error | null, subject: string, data: Uint8Array): void {
    // An ack of a window given up (a time-out, a re-sync) is late: the log has decided.
    if (error !== null || this.#inflight === 0 || subject !== this.#wire?.reply) return;
    const p = this.#window[this.#ackAt++]!;
    this.#inflight--;
    const ack = ackOf(data);
    if (ack === REFUSED) {
      p.state = FAILED;
      this.#fault = true;
      this.counters.lastError = `publish: ${new TextDecoder().decode(data) || "no stream answered (503)"}`;
    } else {
      p.state = ACKED;
      if (ack === DUPLICATE) this.counters.duplicates++;
      else this.counters.published++;
    }
    // An ack behind a failed publish waits for the re-sync.
    while (this.#first < this.#ackAt && this.#window[this.#first]!.state === ACKED) this.#first++;
    this.#compact();
    if (this.#fault) this.#resyncWhenSettled();
    // Wake the reader once a quarter of the window is free, not at every ack.
    else if (this.#wake !== null && this.unacked <= this.#ctx.maxUnacked - Math.ceil(this.#ctx.maxUnacked / 4)) this.#poke();
  }

  #compact(): void {
    if (this.#first === this.#window.length) {
      this.#window.length = 0;
      this.#ackAt = this.#first = 0;
    } else if (this.#first >= 1024 && this.#first * 2 >= this.#window.length) {
      this.#window.splice(0, this.#first);
      this.#ackAt -= this.#first;
      this.#first = 0;
    }
  }

  /** One timer per feed, not per publish: it fires when the oldest publish in flight is due. */
  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#inflight === 0) return;
      const due = this.#window[this.#ackAt]!.sentAt + this.#ctx.publishTimeout - Date.now();
      if (due > 0) this.#arm(due);
      else this.#lost(`publish: no acknowledgement within ${this.#ctx.publishTimeout} ms`);
    }, ms);
    this.#timer.unref();
  }

  /** What is in flight will not be acked (or too late to count): it failed. */
  #lost(why: string): void {
    for (let i = this.#ackAt; i < this.#window.length; i++) if (this.#window[i]!.state === INFLIGHT) this.#window[i]!.state = FAILED;
    this.#ackAt = this.#window.length;
    this.#inflight = 0;
    this.#generation++;
    if (this.#wire !== null) this.#wire.reply = `${this.#wire.inbox}.${this.#generation}`;
    this.#fault = true;
    this.counters.lastError = why;
    this.#resyncWhenSettled();
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
   * all of them up to it. The rest are published again, in order, in one turn.
   */
  async #resync(): Promise<void> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      if (this.unacked === 0) {
        this.#fault = false;
        return;
      }
      const session = await this.#ctx.link.ready();
      if (session === null) {
        // The link was stopped: nothing will be published again.
        this.#clear();
        this.#fault = false;
        return;
      }
      try {
        const last = await session.jsm.streams.getMessage(this.#ctx.stream, { last_by_subj: this.#ctx.subject });
        // Acks that came in meanwhile were for this generation; from here on, none counts.
        this.#generation++;
        if (this.#wire !== null) this.#wire.reply = `${this.#wire.inbox}.${this.#generation}`;
        const pending = this.#window.slice(this.#first);
        const landed = last?.header.get(HEADER_MSG_ID);
        const at = landed ? pending.findIndex((p) => p.msgId === landed) : -1;
        for (let i = 0; i <= at; i++) if (pending[i]!.state !== ACKED) this.counters.published++;
        this.#window = pending.slice(at + 1).filter((p) => p.state !== ACKED);
        this.#first = this.#ackAt = this.#inflight = 0;
        this.counters.resyncs++;
        this.#fault = false;
        for (const p of this.#window) p.state = QUEUED;
        this.#sendAll(this.#window.slice(), Date.now());
        return;
      } catch (error) {
        this.counters.lastError = `re-sync: ${text(error)}`;
        await sleep(delay);
      }
    }
  }
}
