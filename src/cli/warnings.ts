// What a run reports on stderr about its connections while it goes on: each request and
// connection with -v; failed attempts (once per change of reason, so a long outage is a few
// lines, not one per attempt); the first connection that works after them; events skipped.
// Fatal failures are not here: they end the run (exit.ts).

import { describeError, type ErrorFields } from "./exit.js";

/** The fields of an `error` event the report uses. */
export interface ReportedError extends ErrorFields {
  willReconnect: boolean;
  delay?: number | undefined;
}

export interface ReportOptions {
  verbose: boolean;
  quiet: boolean;
  /** Prints one line on stderr. */
  print: (line: string) => void;
}

function fmtDelay(ms: number | undefined): string {
  if (ms === undefined) return "a moment";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

export class ConnectionReport {
  /** The URL as requested, without its credentials (sent only after a 401), hence as shown. */
  readonly #start: string;
  #lastRequest: string;
  // Attempts in a row since a connection last opened; of those, the ones that failed (not a
  // stream the server ended); and the reason last reported.
  #attempts = 0;
  #failed = 0;
  #reported: string | undefined;

  constructor(
    url: URL,
    private readonly o: ReportOptions,
  ) {
    const bare = new URL(url.href);
    bare.username = "";
    bare.password = "";
    this.#start = this.#lastRequest = bare.href;
  }

  /** A request is made (the first, a reconnection, or a redirect). */
  request(method: string, url: string, lastEventIdHeader: string | undefined): void {
    this.#lastRequest = url;
    if (!this.o.verbose) return;
    // Header values are byte strings: the id's UTF-8 bytes, one char each.
    const shown =
      lastEventIdHeader === undefined
        ? ""
        : ` (Last-Event-ID ${JSON.stringify(Buffer.from(lastEventIdHeader, "latin1").toString("utf8"))})`;
    this.o.print(`request: ${method} ${url}${shown}`);
  }

  open(engine: string): void {
    if (this.o.verbose) {
      const redirected = this.#lastRequest !== this.#start ? ` (redirected from ${this.#start})` : "";
      this.o.print(`connected to ${this.#lastRequest}${redirected} (engine ${engine})`);
    } else if (this.#reported !== undefined && !this.o.quiet) {
      this.o.print(`connected again after ${this.#failed} failed attempt${this.#failed === 1 ? "" : "s"}`);
    }
    this.#attempts = 0;
    this.#failed = 0;
    this.#reported = undefined;
  }

  /** An `error` event the stream survives; `lastEventId`: what the next request sends. */
  error(e: ReportedError, lastEventId: string): void {
    if (!e.willReconnect || e.code === "LAST_EVENT_ID_NOT_SENT") {
      // A skipped event is data the user did not get; an id that cannot be sent means the
      // server will not resume: both are always worth a warning.
      if ((e.code === "EVENT_TOO_LARGE" || e.code === "LAST_EVENT_ID_NOT_SENT") && !this.o.quiet) {
        this.o.print(`warning: ${describeError(e)}`);
      }
      return;
    }
    this.#attempts++;
    // A stream the server ended is routine for SSE (the spec reconnects): -v only.
    const routine = e.code === "STREAM_ENDED";
    const reason = describeError(e);
    const line =
      `${routine ? "" : "warning: "}${reason}; retrying in ${fmtDelay(e.delay)} ` +
      `(attempt ${this.#attempts}${lastEventId !== "" ? `, Last-Event-ID ${JSON.stringify(lastEventId)}` : ""})`;
    if (this.o.verbose || (!routine && !this.o.quiet && reason !== this.#reported)) this.o.print(line);
    if (!routine) {
      this.#failed++;
      this.#reported = reason;
    }
  }
}
