// What one SSE event becomes in JetStream, and the message ids that make publishing it
// twice harmless. Pure: no NATS import, testable on its own.

/** Feed names are one subject token and one KV key token: no dots, wildcards or spaces. */
export const FEED_NAME = /^[A-Za-z0-9_-]+$/;

export const HEADER_EVENT = "Sse-Event";
export const HEADER_ID = "Sse-Id";
export const HEADER_MSG_ID = "Nats-Msg-Id";

/** Where a feed resumes, read from the last message on its subject. */
export interface ResumePoint {
  /** The `Sse-Id` to send as Last-Event-ID ("" when the last message had none). */
  lastEventId: string;
  /** Events after that id, without an id of their own, already in the log. */
  followers: number;
}

export const START: ResumePoint = { lastEventId: "", followers: 0 };

/**
 * The resume point a message's `Nats-Msg-Id` and `Sse-Id` headers describe. A message
 * whose event had no id (`<feed>~...`) gives no Last-Event-ID: such a feed restarts from
 * whatever the server sends to a new connection.
 */
export function resumePointOf(feed: string, msgId: string | undefined, sseId: string | undefined): ResumePoint {
  if (!sseId) return START;
  const follower = msgId?.startsWith(`${feed}+`) ? /^\d+/.exec(msgId.slice(feed.length + 1)) : null;
  return { lastEventId: sseId, followers: follower ? Number(follower[0]) : 0 };
}

/**
 * Nats-Msg-Id for each event of one feed, in order, so that JetStream's duplicate window
 * drops the second copy of an event however it comes back: republished after a NATS fault,
 * resent by the SSE server after a reconnection, or read by a worker taking the feed over.
 *
 * - An event whose last event ID differs from the previous one's: `<feed>:<id>`.
 * - Events sharing the previous event's id (the spec keeps the last event ID until an
 *   `id:` field changes it) are numbered after it: `<feed>+<n>:<id>`. A server resuming
 *   from that id resends them in the same order, so they get the same numbers again; the
 *   ones already handed out are skipped (`null`) rather than published twice.
 * - Events with an empty last event ID cannot be resumed at all: `<feed>~<session>.<n>`,
 *   unique per reading session, so only republishes of the same event collapse.
 *
 * Feed names cannot contain `:`, `+` or `~`, so the forms never collide, whatever the ids.
 */
export class MessageIds {
  readonly #feed: string;
  readonly #session: string;
  #base: string;
  /** Events counted after `#base` on the current connection. */
  #ordinal = 0;
  /** The highest ordinal after `#base` handed out so far (on any connection). */
  #high: number;
  #anonymous = 0;

  constructor(feed: string, session: string, resume: ResumePoint = START) {
    this.#feed = feed;
    this.#session = session;
    this.#base = resume.lastEventId;
    this.#high = resume.followers;
  }

  /**
   * A new connection opened with `lastEventId` as its Last-Event-ID: the server resends
   * from after that id, so counting starts again from it.
   */
  reconnected(lastEventId: string): void {
    if (lastEventId !== this.#base) {
      this.#base = lastEventId;
      this.#high = 0;
    }
    this.#ordinal = 0;
  }

  /** The message id of the next event, or null when this event was already handed out. */
  next(lastEventId: string): string | null {
    if (lastEventId === "") return `${this.#feed}~${this.#session}.${++this.#anonymous}`;
    if (lastEventId !== this.#base) {
      this.#base = lastEventId;
      this.#ordinal = 0;
      this.#high = 0;
      return `${this.#feed}:${lastEventId}`;
    }
    this.#ordinal++;
    if (this.#ordinal <= this.#high) return null;
    this.#high = this.#ordinal;
    return `${this.#feed}+${this.#ordinal}:${lastEventId}`;
  }
}

const TE = new TextEncoder();
const EMPTY: Uint8Array = new Uint8Array(0);
const LINE_BREAK = /[\r\n]/;

/** A header value as the NATS client's `headers().set` stores it: no line break, trimmed. */
function headerValue(v: string): string {
  if (LINE_BREAK.test(v)) throw new TypeError(`NATS header values cannot contain \\r or \\n: ${JSON.stringify(v)}`);
  return v.trim();
}

/** What a frame is made of: one event and its message id. */
export interface FrameSource {
  readonly msgId: string;
  readonly event: { readonly type: string; readonly lastEventId: string; readonly data: string };
}

function headerBlock(m: FrameSource): string {
  let block = `NATS/1.0\r\n${HEADER_EVENT}: ${headerValue(m.event.type)}`;
  if (m.event.lastEventId !== "") block += `\r\n${HEADER_ID}: ${headerValue(m.event.lastEventId)}`;
  return `${block}\r\n${HEADER_MSG_ID}: ${headerValue(m.msgId)}\r\n\r\n`;
}

/**
 * Events' header blocks and payloads, the bytes the client's `headers().set(...)` and
 * publish would make (same order, same validation), without a header object (a Map, arrays
 * and key searches) per message, and for a whole chunk in one TextEncoder call instead of
 * three per message: measured the largest per-event costs of a worker after the client's
 * own. `headers` is what the client's publish reads from its `headers` option (only
 * `encode()`), reused for every message: publish calls `encode()` once and keeps the bytes.
 */
export class Frame {
  data: Uint8Array = EMPTY;
  readonly headers = {
    bytes: EMPTY,
    encode(): Uint8Array {
      return this.bytes;
    },
  };
  #bulk = EMPTY;
  /** Per message of the last `encodeAll`: its start and where its header block ends, then the end. Null: use `set`. */
  #cuts: number[] | null = null;

  /** One message on its own. */
  set(m: FrameSource): void {
    const block = headerBlock(m);
    // The block ends with CRLF, so no surrogate pair spans the seam: the encoding of the
    // whole is the encodings of the parts, end to end.
    const bytes = TE.encode(block + m.event.data);
    const head = bytes.length === block.length + m.event.data.length ? block.length : TE.encode(block).length;
    this.headers.bytes = bytes.subarray(0, head);
    this.data = bytes.subarray(head);
  }

  /** Encode the messages of a chunk at once; `at(i, list[i])` then picks each. */
  encodeAll(list: readonly FrameSource[]): void {
    const cuts: number[] = [];
    let text = "";
    try {
      for (let i = 0; i < list.length; i++) {
        const block = headerBlock(list[i]!);
        cuts.push(text.length, text.length + block.length);
        text += block + list[i]!.event.data;
      }
    } catch {
      this.#cuts = null; // `set` throws again, for the message at fault only
      return;
    }
    cuts.push(text.length);
    this.#bulk = TE.encode(text);
    // All ASCII: a byte per code unit, so the cuts in the text are the cuts in the bytes.
    this.#cuts = this.#bulk.length === text.length ? cuts : null;
  }

  at(i: number, m: FrameSource): void {
    const cuts = this.#cuts;
    if (cuts === null) return this.set(m);
    this.headers.bytes = this.#bulk.subarray(cuts[2 * i]!, cuts[2 * i + 1]!);
    this.data = this.#bulk.subarray(cuts[2 * i + 1]!, cuts[2 * i + 2]!);
  }
}

/** JetStream's reply to a publish: stored, dropped as a copy (its Nats-Msg-Id seen), or failed. */
export const STORED = 0;
export const DUPLICATE = 1;
export const REFUSED = 2;
export type Ack = typeof STORED | typeof DUPLICATE | typeof REFUSED;

const STORED_PREFIX = bytes('{"stream":');
const DUPLICATE_KEY = bytes(',"duplicate":true');

function bytes(ascii: string): Uint8Array {
  return Uint8Array.from(ascii, (c) => c.charCodeAt(0));
}

function at(reply: Uint8Array, pattern: Uint8Array, i: number): boolean {
  for (let k = 0; k < pattern.length; k++) if (reply[i + k] !== pattern[k]) return false;
  return true;
}

/**
 * What an ack says, read from its bytes (one per event: no string, no JSON.parse). A stored
 * message is `{"stream":"S","seq":N}`, with `,"duplicate":true` when the stream's duplicate
 * window dropped it; anything else fails: `{"error":{...}}`, or the empty 503 status the
 * server sends when no stream listens on the subject. A stream or domain name cannot
 * forge the key: a `"` inside a JSON string is escaped, so it never follows a comma raw.
 */
export function ackOf(reply: Uint8Array): Ack {
  if (reply.length < STORED_PREFIX.length || !at(reply, STORED_PREFIX, 0)) return REFUSED;
  const last = reply.length - DUPLICATE_KEY.length;
  for (let i = STORED_PREFIX.length; i <= last; i++) {
    if (reply[i] === 0x2c && at(reply, DUPLICATE_KEY, i)) return DUPLICATE;
  }
  return STORED;
}
