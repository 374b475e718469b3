// Output for the CLI: event formatting, a batching stdout writer and the --stats line.

export interface PrintableEvent {
  type: string;
  data: string;
  lastEventId: string;
}

/** One NDJSON line. Key order is fixed (type, data, id) so output can be diffed. */
export function formatNdjson(ev: PrintableEvent): string {
  return `{"type":${JSON.stringify(ev.type)},"data":${JSON.stringify(ev.data)},"id":${JSON.stringify(ev.lastEventId)}}\n`;
}

export interface PrettyStyle {
  color: boolean;
  now?: () => Date;
}

/**
 * A readable block per event:
 *
 *   14:30:00.120 tick #12
 *     {"s":"GOOG","p":168.56}
 *
 * Data lines are indented so multi-line data stays legible; control characters other than
 * tab are escaped so a hostile stream cannot drive the terminal.
 */
export function formatPretty(ev: PrintableEvent, style: PrettyStyle): string {
  const d = (style.now ?? (() => new Date()))();
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
  const c = style.color
    ? { dim: (s: string) => `\x1b[2m${s}\x1b[22m`, type: (s: string) => `\x1b[1;36m${s}\x1b[22;39m`, id: (s: string) => `\x1b[33m${s}\x1b[39m` }
    : { dim: (s: string) => s, type: (s: string) => s, id: (s: string) => s };
  let head = `${c.dim(time)} ${c.type(safe(ev.type))}`;
  if (ev.lastEventId !== "") head += ` ${c.id(`#${safe(ev.lastEventId)}`)}`;
  const body = ev.data === "" ? `  ${c.dim("(empty)")}` : ev.data.split("\n").map((line) => `  ${safe(line)}`).join("\n");
  return `${head}\n${body}\n`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// C0 controls (but tab), DEL and C1 controls: shown as \xNN instead of being interpreted.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
function safe(s: string): string {
  return s.replace(CONTROL, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * Whether to colour output for `stream`, in this order: --no-color; FORCE_COLOR (set and not
 * "0"/"false": colour, even into a pipe; "0"/"false": none), as Node's own tools read it;
 * NO_COLOR (no-color.org: present and not empty); then the terminal itself: `hasColors()`
 * is false for TERM=dumb and for anything that is not a terminal.
 */
export function colorEnabled(
  stream: { isTTY?: boolean; hasColors?: (count?: number) => boolean },
  env: Readonly<Record<string, string | undefined>>,
  noColorFlag: boolean,
): boolean {
  if (noColorFlag) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return stream.isTTY === true && typeof stream.hasColors === "function" && stream.hasColors();
}

/** The subset of a writable stream the writer needs (process.stdout, or a test double). */
export interface Sink {
  write(chunk: string, cb?: (err?: Error | null) => void): boolean;
  once(event: "drain", listener: () => void): unknown;
}

/**
 * Collects formatted events and writes them in batches: one write per burst of events (the
 * events of one network chunk are dispatched together) or per 64 KiB, instead of one write
 * per event, which is what makes printing cost less than parsing.
 *
 * Backpressure: once the sink says it is full, nothing more is written until 'drain'; the
 * batch keeps growing meanwhile and `backlog` tells how much is waiting, so the caller can
 * slow down its producer if it can.
 */
export class BatchWriter {
  private pending: string[] = [];
  private pendingChars = 0;
  private scheduled = false;
  private blocked = false;
  private drainWaiters: (() => void)[] = [];
  private closed = false;

  /**
   * @param around - wraps each write to the sink: the --stats live line uses it to clear
   *   itself from a terminal that stdout shares, then redraw after the events.
   */
  constructor(
    private readonly sink: Sink,
    private readonly highWaterMark = 64 * 1024,
    private readonly around?: (write: () => boolean) => boolean,
  ) {}

  get backlog(): number {
    return this.pendingChars;
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  write(s: string): void {
    if (this.closed) return;
    this.pending.push(s);
    this.pendingChars += s.length;
    if (this.pendingChars >= this.highWaterMark) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate, not a microtask: it runs after the rest of the current I/O callback,
      // so all events parsed from one chunk go out in one write.
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what is pending, unless the sink asked us to wait. */
  flush(): void {
    if (this.blocked || this.pendingChars === 0 || this.closed) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : this.pending.join("");
    this.pending = [];
    this.pendingChars = 0;
    const write = () => this.sink.write(chunk);
    if (!(this.around ? this.around(write) : write())) {
      this.blocked = true;
      this.sink.once("drain", () => {
        this.blocked = false;
        this.flush();
        if (!this.blocked) for (const w of this.drainWaiters.splice(0)) w();
      });
    }
  }

  /** Resolves once the sink can take more (at once when it already can). */
  waitForDrain(): Promise<void> {
    if (!this.blocked) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Writes everything and resolves once the sink has taken it. */
  async end(): Promise<void> {
    this.flush();
    while (this.blocked) await this.waitForDrain();
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      // The callback fires once the (empty) write is done, i.e. after everything before it.
      this.sink.write("", () => resolve());
    });
  }

  /** Drops everything pending (the reader went away). */
  abandon(): void {
    this.closed = true;
    this.pending = [];
    this.pendingChars = 0;
    for (const w of this.drainWaiters.splice(0)) w();
  }
}

export interface StatsSample {
  /** performance.now() at the sample. */
  at: number;
  events: number;
  bytes: number | undefined;
  reconnects: number | undefined;
  /** Date.now() of the last event, or undefined when none yet. */
  lastEventAt: number | undefined;
}

function fmtCount(n: number): string {
  return n.toLocaleString("en-US");
}

function nEvents(n: number): string {
  return `${fmtCount(n)} event${n === 1 ? "" : "s"}`;
}

function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  // Below 10/s a decimal: 0.5 ev/s is not 0, nor 1.
  return n >= 10 ? n.toFixed(0) : n.toFixed(1);
}

/** The window the live rates are averaged over. */
export const RATE_WINDOW_MS = 5000;

/**
 * Rates over a sliding window of samples, not over the last refresh: at 1 event/s and four
 * refreshes a second, per-interval rates flip between 0 and 4 ev/s; over 5 s they read 1.
 * Until the window fills, the rate is over the time since the first sample.
 */
export class RateMeter {
  private samples: StatsSample[] = [];

  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  /** Adds `cur` and returns the sample the rates are taken from (the oldest in the window). */
  add(cur: StatsSample): StatsSample {
    this.samples.push(cur);
    // Keep the newest sample at or before the window's start: the window is then covered.
    while (this.samples.length > 2 && this.samples[1]!.at <= cur.at - this.windowMs) this.samples.shift();
    return this.samples[0]!;
  }
}

function fmtAgo(ms: number | undefined): string {
  if (ms === undefined) return "never";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms ago`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s ago`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s ago`;
}

/** The live --stats line, from two samples (see RateMeter): rates are over the interval between them. */
export function formatStatsLine(prev: StatsSample, cur: StatsSample, engine: string, nowMs = Date.now()): string {
  const dt = Math.max(1e-3, (cur.at - prev.at) / 1000);
  const evps = (cur.events - prev.events) / dt;
  const mbps = cur.bytes !== undefined && prev.bytes !== undefined ? (cur.bytes - prev.bytes) / dt / 1e6 : undefined;
  return (
    `${nEvents(cur.events)}  ${fmtRate(evps)} ev/s  ` +
    `${mbps === undefined ? "-" : mbps.toFixed(2)} MB/s  ` +
    `reconnects ${cur.reconnects ?? "-"}  engine ${engine}  ` +
    `last event ${fmtAgo(cur.lastEventAt === undefined ? undefined : nowMs - cur.lastEventAt)}`
  );
}

/** The final --stats line: totals and averages over the whole run. */
export function formatSummary(start: StatsSample, end: StatsSample, engine: string, printed?: number): string {
  const secs = Math.max(1e-3, (end.at - start.at) / 1000);
  const mb = end.bytes === undefined ? undefined : end.bytes / 1e6;
  // Printed and received differ with --event (filtered out) or --count (the rest of the
  // last chunk): say both then.
  const events =
    printed === undefined || printed === end.events
      ? nEvents(end.events)
      : `${nEvents(printed)} printed (${fmtCount(end.events)} received)`;
  return (
    `summary: ${events}, ${mb === undefined ? "-" : mb.toFixed(2)} MB in ${secs.toFixed(2)} s ` +
    `(${fmtRate(end.events / secs)} ev/s, ${mb === undefined ? "-" : (mb / secs).toFixed(2)} MB/s), ` +
    `reconnects ${end.reconnects ?? "-"}, engine ${engine}`
  );
}
