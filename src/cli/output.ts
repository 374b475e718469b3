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

  constructor(
    private readonly sink: Sink,
    private readonly highWaterMark = 64 * 1024,
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
    if (!this.sink.write(chunk)) {
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

function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

function fmtAgo(ms: number | undefined): string {
  if (ms === undefined) return "never";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms ago`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s ago`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s ago`;
}

/** The live --stats line, from two samples: rates are over the interval between them. */
export function formatStatsLine(prev: StatsSample, cur: StatsSample, engine: string, nowMs = Date.now()): string {
  const dt = Math.max(1e-3, (cur.at - prev.at) / 1000);
  const evps = (cur.events - prev.events) / dt;
  const mbps = cur.bytes !== undefined && prev.bytes !== undefined ? (cur.bytes - prev.bytes) / dt / 1e6 : undefined;
  return (
    `${fmtCount(cur.events)} events  ${fmtRate(evps)} ev/s  ` +
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
      ? `${fmtCount(end.events)} events`
      : `${fmtCount(printed)} events printed (${fmtCount(end.events)} received)`;
  return (
    `summary: ${events}, ${mb === undefined ? "-" : mb.toFixed(2)} MB in ${secs.toFixed(2)} s ` +
    `(${fmtRate(end.events / secs)} ev/s, ${mb === undefined ? "-" : (mb / secs).toFixed(2)} MB/s), ` +
    `reconnects ${end.reconnects ?? "-"}, engine ${engine}`
  );
}
