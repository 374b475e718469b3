// stderr while a run goes on: the --stats line, and the lines printed around it.
//
// On a terminal, --stats is one line redrawn in place. Whatever else goes to that terminal
// (warnings, and events when stdout is the same terminal) first clears it, and the line is
// drawn again after, so the two never share a line. Elsewhere (a log file, CI) each refresh is
// a plain line that a grep can use.

import type { EventSourceStats } from "../index.js";
import { formatStatsLine, formatSummary, RateMeter, type StatsSample } from "./output.js";

/** The part of a writable stream the status line uses (process.stderr, or a test double). */
export interface StatusStream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
}

export class StatusLine {
  #line = "";

  /** @param live - redraw one line in place (a terminal) rather than append lines. */
  constructor(
    private readonly stream: StatusStream,
    readonly live: boolean,
  ) {}

  /** A line of its own: a warning, a report (clears the live line, then draws it again). */
  print(line: string): void {
    this.#clear();
    this.#write(`${line}\n`);
    this.#redraw();
  }

  /** The --stats line: drawn in place when live, else printed as a line. */
  show(line: string): void {
    if (!this.live) return this.#write(`${line}\n`);
    this.#line = line;
    this.#redraw();
  }

  /** Runs `write` (events going to the same terminal) with the live line out of the way. */
  around<T>(write: () => T): T {
    this.#clear();
    const result = write();
    this.#redraw();
    return result;
  }

  /** Clears the live line for good: what follows is the end of the run. */
  end(): void {
    this.#clear();
    this.#line = "";
  }

  #clear(): void {
    if (this.#line !== "") this.#write("\r\x1b[K");
  }

  #redraw(): void {
    if (this.#line !== "") this.#write(`\r${this.#line}\x1b[K`);
  }

  #write(text: string): void {
    try {
      this.stream.write(text);
    } catch {
      // stderr gone too: nothing left to tell anyone.
    }
  }
}

/** What --stats reads from the source. */
export interface StatsSource {
  readonly stats: Pick<EventSourceStats, "events" | "bytes" | "reconnects" | "lastEventAt">;
  readonly engine: string;
}

/**
 * --stats: a sample of the source per refresh, shown on the status line; rates are over the
 * last few seconds (RateMeter). `summary()` is the final line, over the whole run.
 */
export class StatsReporter {
  readonly #first: StatsSample;
  readonly #meter = new RateMeter();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: StatsSource,
    private readonly status: StatusLine,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#first = this.#sample();
    this.#meter.add(this.#first);
  }

  /** Refreshes every `intervalMs` until stop(); the timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.#timer = setInterval(() => this.refresh(), intervalMs);
    this.#timer.unref();
  }

  refresh(): void {
    const cur = this.#sample();
    this.status.show(formatStatsLine(this.#meter.add(cur), cur, this.source.engine));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** `printed`: events written, which --event and --count make differ from those received. */
  summary(printed: number): string {
    return formatSummary(this.#first, this.#sample(), this.source.engine, printed);
  }

  #sample(): StatsSample {
    const s = this.source.stats;
    return { at: this.now(), events: s.events, bytes: s.bytes, reconnects: s.reconnects, lastEventAt: s.lastEventAt ?? undefined };
  }
}
