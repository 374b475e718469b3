#!/usr/bin/env node
// `eventsource-wasm <url>`: print a Server-Sent Events stream as NDJSON (or readable text).
// The shebang above is kept by esbuild at the top of dist/cli.js, which package.json's
// "bin" points to. This module runs on import; the pieces live in cli-args.ts and
// cli-output.ts.

import { STATUS_CODES } from "node:http";
import { EventSource } from "../client/event-source.js";
import { HELP, parseCli, type CliOptions } from "./args.js";
import {
  BatchWriter,
  formatNdjson,
  formatPretty,
  formatStatsLine,
  formatSummary,
  type PrintableEvent,
  type StatsSample,
} from "./output.js";
import pkg from "../../package.json" with { type: "json" };

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** The fields of an EventSourceErrorEvent / EventSourceError that the messages use. */
interface ErrorFields {
  message?: string;
  code?: string;
  status?: number | undefined;
  statusText?: string | undefined;
  headers?: { get(name: string): string | null } | undefined;
  cause?: unknown;
  attempts?: number | undefined;
}

function causeText(cause: unknown): string | undefined {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
  }
  return cause === undefined ? undefined : String(cause);
}

/** One line saying why the stream failed, for people and for scripts that grep stderr. */
function describeError(e: ErrorFields): string {
  switch (e.code) {
    case "HTTP_STATUS":
      if (e.status !== undefined) return `HTTP ${e.status} ${e.statusText || STATUS_CODES[e.status] || ""}`.trimEnd();
      break;
    case "BAD_CONTENT_TYPE": {
      const got = e.headers?.get("content-type") ?? undefined;
      if (got !== undefined || !e.message) return `expected text/event-stream, got ${got || "no content type"}`;
      break;
    }
    case "IDLE_TIMEOUT":
      return e.message || "no data received within the idle timeout";
    case "MAX_ATTEMPTS": {
      // The cause is the last failure, itself an EventSourceError: say what it was first.
      const last = e.cause && typeof e.cause === "object" ? describeError(e.cause as ErrorFields) : undefined;
      const n = e.attempts;
      if (last === undefined || n === undefined) break;
      // The CLI sets maxAttempts only from --retries.
      return n === 0
        ? `${last} (no reconnection: --retries 0)`
        : `${last} (gave up after ${n} reconnection attempt${n === 1 ? "" : "s"})`;
    }
    case "NETWORK": {
      const why = causeText(e.cause);
      if (why && !(e.message ?? "").includes(why)) return `network error: ${why}`;
      break;
    }
  }
  return e.message || causeText(e.cause) || e.code || "connection failed";
}

function out(stream: NodeJS.WriteStream, line: string): void {
  try {
    stream.write(line);
  } catch {
    // stderr gone too: nothing left to tell anyone.
  }
}

async function run(o: CliOptions): Promise<number> {
  const stdout = process.stdout;
  const stderr = process.stderr;
  const writer = new BatchWriter(stdout);
  const color = stdout.isTTY === true && !process.env.NO_COLOR;
  const format = o.pretty ? (ev: PrintableEvent) => formatPretty(ev, { color }) : formatNdjson;

  const abort = new AbortController();
  const source = new EventSource(o.url.href, {
    headers: o.headers,
    lastEventId: o.lastEventId,
    engine: o.engine,
    maxEventSize: o.maxEventSize,
    idleTimeout: o.idleTimeout,
    ...(o.retries !== undefined ? { reconnect: { maxAttempts: o.retries } } : {}),
    ...(o.method !== undefined ? { method: o.method } : {}),
    ...(o.body !== undefined ? { body: o.body } : {}),
    signal: abort.signal,
  });

  let printed = 0;
  let done = false;
  let resolveExit!: (code: number) => void;
  const exit = new Promise<number>((r) => (resolveExit = r));

  // --stats: a sample per refresh; rates are over the last interval.
  const sample = (): StatsSample => {
    const s = source.stats;
    return {
      at: performance.now(),
      events: s.eventsDispatched,
      bytes: s.bytesReceived,
      reconnects: s.reconnects,
      lastEventAt: s.lastEventAt ?? undefined,
    };
  };
  const tty = stderr.isTTY === true;
  const first = sample();
  let prev = first;
  let statsTimer: NodeJS.Timeout | undefined;
  let statsShown = false;
  if (o.stats) {
    statsTimer = setInterval(
      () => {
        const cur = sample();
        const line = formatStatsLine(prev, cur, source.engine);
        prev = cur;
        // On a terminal, one line redrawn in place (\r, then erase to end of line);
        // elsewhere (a log file, CI), plain lines that a grep can use.
        out(stderr, tty ? `\r${line}\x1b[K` : `${line}\n`);
        statsShown = true;
      },
      o.statsInterval ?? (tty ? 250 : 1000),
    );
    statsTimer.unref();
  }

  const finish = async (code: number, message?: string, { flush = true } = {}): Promise<void> => {
    if (done) return;
    done = true;
    if (statsTimer) clearInterval(statsTimer);
    abort.abort(); // closes the source
    if (flush) await writer.end().catch(() => {});
    else writer.abandon();
    if (o.stats) {
      if (tty && statsShown) out(stderr, "\r\x1b[K");
      out(stderr, `${formatSummary(first, sample(), source.engine, printed)}\n`);
    }
    if (message) out(stderr, `${message}\n`);
    resolveExit(code);
  };

  // Named events only reach listeners of their own type, so the CLI reads the source's
  // async iterator, which yields every type (or only the --event ones). It also gives
  // backpressure: while stdout is full the loop stops pulling, the iterator's buffer fills
  // and the source pauses the socket, so a slow reader never makes memory grow.
  const iterate = async (): Promise<void> => {
    const events = source.events(o.events.length > 0 ? { types: o.events } : {});
    try {
      for await (const ev of events) {
        if (done) break;
        writer.write(format({ type: ev.type, data: String(ev.data), lastEventId: ev.lastEventId }));
        printed++;
        if (o.count !== undefined && printed >= o.count) {
          await finish(EXIT_OK);
          break;
        }
        if (writer.isBlocked) await writer.waitForDrain();
      }
      // The iterator ends when the source was closed (by us: signal, --count, EPIPE).
      await finish(EXIT_OK);
    } catch (error) {
      // The source failed for good; buffered events were yielded before this.
      const e = error as ErrorFields;
      // 204 No Content is the spec's way for a server to say "stop reconnecting": a clean end.
      if (e.code === "HTTP_STATUS" && e.status === 204) {
        await finish(EXIT_OK, o.verbose ? "the server ended the stream (HTTP 204 No Content)" : undefined);
      } else {
        await finish(EXIT_FAILED, `error: ${describeError(e)}`);
      }
    }
  };

  source.addEventListener("open", () => {
    if (o.verbose) out(stderr, `connected to ${o.url.href} (engine ${source.engine})\n`);
  });
  // Fatal errors end the iterator (above); here only what the stream survives. A skipped
  // event is data the user did not get, so it is always reported; reconnections (routine
  // on a long-lived stream) only with -v.
  source.addEventListener("error", (e) => {
    if (done) return;
    if (e.code === "EVENT_TOO_LARGE") out(stderr, `warning: ${describeError(e)}\n`);
    else if (e.willReconnect && o.verbose) out(stderr, `warning: ${describeError(e)}; reconnecting\n`);
  });

  // A reader that goes away (`| head`) is a normal way to stop: no stack trace, status 0.
  stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") void finish(EXIT_OK, undefined, { flush: false });
    else void finish(EXIT_FAILED, `error: writing output: ${err.message}`, { flush: false });
  });

  const onSignal = () => void finish(EXIT_OK);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  void iterate();
  return exit;
}

function writeAll(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.once("error", () => resolve());
    stream.write(text, () => resolve());
  });
}

async function main(argv: readonly string[]): Promise<number> {
  // `ingest` lives in its own module, with the optional NATS packages: loaded only here.
  if (argv[0] === "ingest") return (await import("./ingest.js")).runIngest(argv.slice(1));
  const parsed = parseCli(argv);
  switch (parsed.kind) {
    case "help":
      await writeAll(process.stdout, HELP);
      return EXIT_OK;
    case "version":
      await writeAll(process.stdout, `${pkg.version}\n`);
      return EXIT_OK;
    case "usage-error":
      process.stderr.write(`error: ${parsed.message}\nTry 'eventsource-wasm --help' for usage.\n`);
      return EXIT_USAGE;
    case "run":
      return run(parsed.options);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: a socket or timer still closing must not keep a finished CLI alive.
    // stdout has been flushed by then (BatchWriter.end waits for the write callback).
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT_FAILED);
  },
);
