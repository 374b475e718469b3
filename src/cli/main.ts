#!/usr/bin/env node
// `eventsource-wasm <url>`: print a Server-Sent Events stream as NDJSON (or readable text).
// The shebang above is kept by esbuild at the top of dist/cli.js, which package.json's
// "bin" points to. This module runs on import; the pieces live in args.ts, output.ts and
// proxy.ts, and `eventsource-wasm ingest` in ingest.ts (loaded only for that command).

import { readFileSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import { EventSource } from "../client/event-source.js";
import { HELP, parseCli, type CliOptions } from "./args.js";
import {
  BatchWriter,
  colorEnabled,
  formatNdjson,
  formatPretty,
  formatStatsLine,
  formatSummary,
  type PrintableEvent,
  RateMeter,
  type StatsSample,
} from "./output.js";
import { proxyFor } from "./proxy.js";
import pkg from "../../package.json" with { type: "json" };

/** Exit statuses, one per way a run ends (listed in --help and the README). */
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_HTTP_STATUS = 3;
const EXIT_CONTENT_TYPE = 4;
const EXIT_RETRIES = 5;
const EXIT_TLS = 6;
const EXIT_REDIRECT = 7;
// 128 + the signal number, as shells report a process a signal ended.
const EXIT_SIGINT = 130;
const EXIT_SIGTERM = 143;

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

function exitCodeFor(e: ErrorFields): number {
  switch (e.code) {
    case "HTTP_STATUS":
      return EXIT_HTTP_STATUS;
    case "BAD_CONTENT_TYPE":
      return EXIT_CONTENT_TYPE;
    case "MAX_ATTEMPTS":
      return EXIT_RETRIES;
    case "TOO_MANY_REDIRECTS":
    case "BAD_REDIRECT":
      return EXIT_REDIRECT;
    default:
      return EXIT_FAILED;
  }
}

// OpenSSL's verification codes (as Node names them) and Node's TLS/SSL error codes.
const TLS_ERROR =
  /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_(GET|VERIFY|DECRYPT)|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE)/;

/** The TLS error behind a network error, if that is what it was. */
function tlsFailure(cause: unknown): Error | undefined {
  for (let e = cause, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && TLS_ERROR.test(code)) return e;
  }
  return undefined;
}

function fmtDelay(ms: number | undefined): string {
  if (ms === undefined) return "a moment";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

function out(stream: NodeJS.WriteStream, line: string): void {
  try {
    stream.write(line);
  } catch {
    // stderr gone too: nothing left to tell anyone.
  }
}

class CliUsageError extends Error {}

/** The request body and TLS trust read from files (-d @file, --cacert): bad usage if unreadable. */
function readInputs(o: CliOptions): { body: string | Uint8Array | undefined; ca: string | undefined } {
  let body: string | Uint8Array | undefined = o.body;
  if (o.bodyFile !== undefined) {
    try {
      body = readFileSync(o.bodyFile === "-" ? 0 : o.bodyFile);
    } catch (error) {
      throw new CliUsageError(`cannot read --data @${o.bodyFile}: ${causeText(error)}`);
    }
  }
  let ca: string | undefined;
  if (o.caFile !== undefined) {
    try {
      ca = readFileSync(o.caFile, "utf8");
    } catch (error) {
      throw new CliUsageError(`cannot read --cacert ${o.caFile}: ${causeText(error)}`);
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) throw new CliUsageError(`--cacert ${o.caFile}: no PEM certificate in it`);
  }
  return { body, ca };
}

async function run(o: CliOptions): Promise<number> {
  const stdout = process.stdout;
  const stderr = process.stderr;
  const { body, ca } = readInputs(o);

  // --stats on a terminal: one line redrawn in place. Whatever else goes to that terminal
  // (events on a shared stdout, warnings) first clears it, and the line is drawn again after.
  const tty = stderr.isTTY === true;
  const live = o.stats && tty;
  let liveLine = "";
  const clearLive = (): void => {
    if (liveLine !== "") out(stderr, "\r\x1b[K");
  };
  const redrawLive = (): void => {
    if (liveLine !== "") out(stderr, `\r${liveLine}\x1b[K`);
  };
  const warn = (line: string): void => {
    clearLive();
    out(stderr, `${line}\n`);
    redrawLive();
  };

  const writer = new BatchWriter(
    stdout,
    undefined,
    live && stdout.isTTY === true
      ? (write) => {
          clearLive();
          const ok = write();
          redrawLive();
          return ok;
        }
      : undefined,
  );
  const color = colorEnabled(stdout, process.env, o.noColor);
  const format = o.pretty ? (ev: PrintableEvent) => formatPretty(ev, { color }) : formatNdjson;

  // Requests are made, and so shown, without the URL's credentials (sent only after a 401).
  const bare = new URL(o.url.href);
  bare.username = "";
  bare.password = "";
  let lastRequest = bare.href;
  const abort = new AbortController();
  const tlsOptions = {
    ...(o.insecure ? { rejectUnauthorized: false } : {}),
    ...(ca !== undefined ? { ca } : {}),
  };
  const source = new EventSource(o.url.href, {
    headers: o.headers,
    lastEventId: o.lastEventId,
    engine: o.engine,
    maxEventSize: o.maxEventSize,
    idleTimeout: o.idleTimeout,
    ...(o.retries !== undefined ? { reconnect: { maxAttempts: o.retries } } : {}),
    ...(o.method !== undefined ? { method: o.method } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(Object.keys(tlsOptions).length > 0 ? { tls: tlsOptions } : {}),
    // Per request: a redirect may go to another scheme or host (and NO_PROXY).
    proxy: (target) => proxyFor(target, o.proxy, process.env),
    onRequest: (r) => {
      lastRequest = r.url;
      if (!o.verbose) return;
      // Header values are byte strings: the id's UTF-8 bytes, one char each.
      const id = r.headers["last-event-id"];
      const shown = id === undefined ? "" : ` (Last-Event-ID ${JSON.stringify(Buffer.from(id, "latin1").toString("utf8"))})`;
      warn(`request: ${r.method} ${r.url}${shown}`);
    },
    signal: abort.signal,
  });

  let printed = 0;
  let done = false;
  let resolveExit!: (code: number) => void;
  const exit = new Promise<number>((r) => (resolveExit = r));

  // --stats: a sample per refresh; rates over the last few seconds (RateMeter).
  const sample = (): StatsSample => {
    const s = source.stats;
    return {
      at: performance.now(),
      events: s.events,
      bytes: s.bytes,
      reconnects: s.reconnects,
      lastEventAt: s.lastEventAt ?? undefined,
    };
  };
  const first = sample();
  const meter = new RateMeter();
  meter.add(first);
  let statsTimer: NodeJS.Timeout | undefined;
  if (o.stats) {
    statsTimer = setInterval(
      () => {
        const cur = sample();
        const line = formatStatsLine(meter.add(cur), cur, source.engine);
        // Elsewhere than a terminal (a log file, CI), plain lines that a grep can use.
        if (live) {
          liveLine = line;
          redrawLive();
        } else out(stderr, `${line}\n`);
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
    clearLive();
    liveLine = "";
    if (o.stats) out(stderr, `${formatSummary(first, sample(), source.engine, printed)}\n`);
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
        await finish(exitCodeFor(e), `error: ${describeError(e)}`);
      }
    }
  };

  // Failed attempts in a row (reset when a connection opens), and the reason last reported:
  // a long outage prints one line per change of reason, not one per attempt.
  let failures = 0;
  let failed = 0; // of those, attempts that failed (not a stream the server ended)
  let reported: string | undefined;
  source.addEventListener("open", () => {
    if (o.verbose) {
      const redirected = lastRequest !== bare.href ? ` (redirected from ${bare.href})` : "";
      warn(`connected to ${lastRequest}${redirected} (engine ${source.engine})`);
    } else if (reported !== undefined && !o.quiet) {
      warn(`connected again after ${failed} failed attempt${failed === 1 ? "" : "s"}`);
    }
    failures = 0;
    failed = 0;
    reported = undefined;
  });
  // Fatal errors end the iterator (above); here what the stream survives.
  source.addEventListener("error", (e) => {
    if (done) return;
    if (!e.willReconnect || e.code === "LAST_EVENT_ID_NOT_SENT") {
      // A skipped event is data the user did not get; an id that cannot be sent means the
      // server will not resume: both are always worth a warning.
      if ((e.code === "EVENT_TOO_LARGE" || e.code === "LAST_EVENT_ID_NOT_SENT") && !o.quiet) {
        warn(`warning: ${describeError(e)}`);
      }
      return;
    }
    // A certificate the server keeps presenting will not be accepted on the next attempt
    // either: fail now, as curl does, rather than retry forever.
    const tlsError = tlsFailure(e.cause);
    if (tlsError !== undefined) {
      void finish(EXIT_TLS, `error: TLS: ${causeText(tlsError)} (--cacert <file> trusts a CA, -k accepts any certificate)`);
      return;
    }
    failures++;
    // A stream the server ended is routine for SSE (the spec reconnects): -v only.
    const routine = e.code === "STREAM_ENDED";
    const reason = describeError(e);
    const id = source.lastEventId;
    const line =
      `${routine ? "" : "warning: "}${reason}; retrying in ${fmtDelay(e.delay)} ` +
      `(attempt ${failures}${id !== "" ? `, Last-Event-ID ${JSON.stringify(id)}` : ""})`;
    if (o.verbose || (!routine && !o.quiet && reason !== reported)) warn(line);
    if (!routine) {
      failed++;
      reported = reason;
    }
  });

  // A reader that goes away (`| head`) is a normal way to stop: no stack trace, status 0.
  stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") void finish(EXIT_OK, undefined, { flush: false });
    else void finish(EXIT_FAILED, `error: writing output: ${err.message}`, { flush: false });
  });

  // As shells and `tail -f` do: 128 + the signal number, after what was read is written.
  process.once("SIGINT", () => void finish(EXIT_SIGINT));
  process.once("SIGTERM", () => void finish(EXIT_SIGTERM));

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
  if (argv[0] === "record") return (await import("./record.js")).runRecord(argv.slice(1));
  if (argv[0] === "replay") return (await import("./replay.js")).runReplay(argv.slice(1));
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
      try {
        return await run(parsed.options);
      } catch (error) {
        if (!(error instanceof CliUsageError)) throw error;
        process.stderr.write(`error: ${error.message}\n`);
        return EXIT_USAGE;
      }
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
