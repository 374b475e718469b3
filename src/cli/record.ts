// `eventsource-wasm record <url> -o <file>`: save a stream's body bytes as they arrive, with
// their arrival times and the response's status and headers (format: recording.ts,
// docs/recording.md), for `replay` and the benchmarks.
//
// The request is made by the library's EventSource (the client's own request headers,
// redirect rules and status and content-type checks, so a server answers the recorder as it
// answers the client and refusals get the client's error codes), with `fetch` set to a
// wrapper of the global fetch that writes each body chunk to the file before the client
// parses it. fetch decodes content codings (gzip, deflate, br) as it streams, as browsers
// do, so the file holds the bytes the parser sees; and its chunks are the HTTP chunks as read
// from the socket. No reconnection: a recording is one response.

import { accessSync, constants } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { EventSource, type FetchLike, type FetchLikeReader } from "../index.js";
import { type EndReason, type RecordingHeader, RecordingWriter } from "./recording.js";

// The command's exit statuses, as `eventsource-wasm <url>` has them (its --help).
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_HTTP_STATUS = 3;
const EXIT_CONTENT_TYPE = 4;
const EXIT_TLS = 6;
const EXIT_REDIRECT = 7;
const EXIT_SIGINT = 130;
const EXIT_SIGTERM = 143;

export const RECORD_HELP = `Usage: eventsource-wasm record <url> -o <file> [options]

Save a Server-Sent Events stream as received: the response status and headers, then each
chunk of the body (after content decoding) with its arrival time, until the stream ends,
--count events have arrived or --duration has passed. Each chunk is written as it
arrives, so a recording cut short (Ctrl-C, a crash) reads up to its last whole chunk.
Replay it with "eventsource-wasm replay <file>". Format: docs/recording.md.

Options:
  -o, --output <file>         The recording to write (replaced if it exists).
  -n, --count <n>             Stop after the chunk that brought the n-th event.
      --duration <time>       Stop this long after the response arrived
                              (milliseconds, or with a unit: 500ms, 30s, 2m).
  -H, --header "Name: value"  Add a request header (repeatable).
  -h, --help                  Show this help.

Exit status: 0 when the stream ended, --count or --duration; 130 (SIGINT) and 143
(SIGTERM) after closing the file; otherwise as "eventsource-wasm --help" lists (2 bad
usage, 3 HTTP status, 4 not text/event-stream, 6 TLS, 7 redirects, 1 anything else).
`;

export interface RecordOptions {
  url: URL;
  output: string;
  headers: Record<string, string>;
  count: number | undefined;
  duration: number | undefined;
}

class UsageError extends Error {}

const TIME_UNITS: Record<string, number> = { "": 1, ms: 1, s: 1000, m: 60_000 };

export function parseRecordArgs(argv: readonly string[]): RecordOptions | "help" {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      output: { type: "string", short: "o" },
      count: { type: "string", short: "n" },
      duration: { type: "string" },
      header: { type: "string", short: "H", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "missing <url>" : "one URL only");
  if (values.output === undefined || values.output === "") throw new UsageError("missing -o <file> (where to write the recording)");
  const given = positionals[0]!;
  // As the main command: `host:port/path` means http://.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`invalid URL ${JSON.stringify(given)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`invalid URL ${JSON.stringify(given)} (only http: and https: are supported)`);
  }
  const headers: Record<string, string> = {};
  for (const raw of values.header ?? []) {
    const colon = raw.indexOf(":");
    const name = colon < 0 ? "" : raw.slice(0, colon).trim();
    const value = raw.slice(colon + 1).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw new UsageError(`invalid header ${JSON.stringify(raw)} (expected "Name: value")`);
    }
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let count: number | undefined;
  if (values.count !== undefined) {
    count = Number(values.count);
    if (!/^\d+$/.test(values.count) || count < 1) throw new UsageError(`invalid value for --count: ${JSON.stringify(values.count)}`);
  }
  let duration: number | undefined;
  if (values.duration !== undefined) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(values.duration);
    duration = m ? Math.round(Number(m[1]) * TIME_UNITS[(m[2] ?? "").toLowerCase()]!) : NaN;
    if (!(duration >= 1)) throw new UsageError(`invalid value for --duration: ${JSON.stringify(values.duration)}`);
  }
  const output = resolve(values.output);
  try {
    accessSync(dirname(output), constants.W_OK);
  } catch {
    throw new UsageError(`cannot write ${values.output}: its directory does not exist or is not writable`);
  }
  return { url, output, headers, count, duration };
}

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Where SIGINT and SIGTERM arrive (the process; tests pass an emitter of their own). */
  signals: NodeJS.EventEmitter;
}

const processIo = (): CommandIo => ({ stdout: process.stdout, stderr: process.stderr, signals: process });

export async function runRecord(argv: readonly string[], io: CommandIo = processIo()): Promise<number> {
  let o: RecordOptions | "help";
  try {
    o = parseRecordArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError) && !String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) throw error;
    io.stderr.write(`error: ${(error as Error).message}\nTry 'eventsource-wasm record --help' for usage.\n`);
    return EXIT_USAGE;
  }
  if (o === "help") {
    io.stdout.write(RECORD_HELP);
    return EXIT_OK;
  }
  return record(o, io);
}

/** The response being received: what the header line will say, and the clock's origin. */
interface Received {
  header: RecordingHeader;
  at: number;
}

function record(o: RecordOptions, io: CommandIo): Promise<number> {
  let received: Received | undefined;
  let writer: RecordingWriter | undefined;
  let frames = 0;
  let bytes = 0;
  let done = false;
  let durationTimer: NodeJS.Timeout | undefined;
  let resolveExit!: (code: number) => void;
  const exit = new Promise<number>((r) => (resolveExit = r));

  const startWriting = (): RecordingWriter => {
    writer ??= new RecordingWriter(o.output, received!.header);
    return writer;
  };

  const finish = (code: number, reason: EndReason | undefined, message?: string): void => {
    if (done) return;
    done = true;
    clearTimeout(durationTimer);
    io.signals.off("SIGINT", onSigint);
    io.signals.off("SIGTERM", onSigterm);
    source.close();
    try {
      if (writer !== undefined && reason !== undefined) writer.end(performance.now() - received!.at, reason);
      writer?.close();
    } catch (error) {
      message ??= `error: writing ${o.output}: ${(error as Error).message}`;
      code = EXIT_FAILED;
    }
    if (writer !== undefined) {
      const why = { eof: "the server ended the stream", error: "the connection failed", count: `${o.count} events`, duration: "--duration", signal: "interrupted" };
      const secs = ((performance.now() - received!.at) / 1000).toFixed(1);
      io.stderr.write(`recorded ${frames} chunk${frames === 1 ? "" : "s"}, ${bytes} bytes, ${source.stats.events} events in ${secs} s to ${o.output} (${reason === undefined ? "stopped" : why[reason]})\n`);
    }
    if (message !== undefined) io.stderr.write(`${message}\n`);
    resolveExit(code);
  };

  const recordingFetch: FetchLike = async (input, init) => {
    const res = await fetch(input, init);
    const at = performance.now();
    const headers: [string, string][] = [];
    res.headers.forEach((value, name) => headers.push([name, value]));
    // Each redirect's response replaces the last: the one whose body is read is recorded.
    received = { at, header: { url: input, recordedAt: new Date().toISOString(), status: res.status, statusText: res.statusText, headers } };
    const body = res.body;
    // Only a stream is recorded: the body of an error status is read by the client for its
    // error event (`error.body`), and is not the stream's end.
    if (body === null || res.status !== 200) return res;
    return {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
      body: { getReader: () => recordingReader(body.getReader()) },
    };
  };

  const recordingReader = (reader: ReadableStreamDefaultReader<Uint8Array>): FetchLikeReader => ({
    async read() {
      // The client parses a chunk before it asks for the next: the events it brought are counted.
      if (o.count !== undefined && source.stats.events >= o.count) {
        finish(EXIT_OK, "count");
        return { done: true };
      }
      const r = await reader.read();
      if (done) return r;
      const w = startWriting();
      if (r.done) {
        finish(EXIT_OK, "eof");
        return r;
      }
      try {
        w.frame(performance.now() - received!.at, r.value);
      } catch (error) {
        finish(EXIT_FAILED, undefined, `error: writing ${o.output}: ${(error as Error).message}`);
        return { done: true };
      }
      frames++;
      bytes += r.value.byteLength;
      return r;
    },
    cancel: (reason) => reader.cancel(reason),
  });

  const source = new EventSource(o.url.href, { headers: o.headers, fetch: recordingFetch, reconnect: { maxAttempts: 0 } });
  source.addEventListener("open", () => {
    try {
      startWriting();
    } catch (error) {
      finish(EXIT_FAILED, undefined, `error: cannot write ${o.output}: ${(error as Error).message}`);
      return;
    }
    if (o.duration !== undefined) {
      const left = o.duration - (performance.now() - received!.at);
      durationTimer = setTimeout(() => finish(EXIT_OK, "duration"), Math.max(0, left));
    }
  });
  source.addEventListener("error", (e) => {
    // An event over the parser's bound is skipped by the client, but its bytes are recorded.
    if (done || e.code === "EVENT_TOO_LARGE" || e.code === "LAST_EVENT_ID_NOT_SENT") return;
    const failure = e.code === "MAX_ATTEMPTS" && e.cause instanceof Error ? (e.cause as Failure) : e;
    const [code, message] = describeFailure(failure, o.url, writer !== undefined);
    finish(code, "error", `error: ${message}`);
  });

  const onSigint = (): void => finish(EXIT_SIGINT, "signal");
  const onSigterm = (): void => finish(EXIT_SIGTERM, "signal");
  io.signals.once("SIGINT", onSigint);
  io.signals.once("SIGTERM", onSigterm);
  return exit;
}

interface Failure {
  code?: string;
  message?: string;
  status?: number | undefined;
  statusText?: string | undefined;
  headers?: { get(name: string): string | null } | undefined;
  cause?: unknown;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the server",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed (try again)",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_SOCKET: "the server closed the connection",
};
// OpenSSL's verification codes (as Node names them) and Node's TLS/SSL error codes.
const TLS_ERROR = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

/** The exit status and a curl-grade line for a failure that ends the recording. */
export function describeFailure(e: Failure, url: URL, opened = false): [number, string] {
  switch (e.code) {
    case "HTTP_STATUS":
      return [EXIT_HTTP_STATUS, `HTTP ${e.status ?? ""} ${e.statusText ?? ""}`.trimEnd()];
    case "BAD_CONTENT_TYPE":
      return [EXIT_CONTENT_TYPE, `expected text/event-stream, got ${e.headers?.get("content-type") || "no content type"}`];
    case "TOO_MANY_REDIRECTS":
    case "BAD_REDIRECT":
      return [EXIT_REDIRECT, e.message ?? "bad redirect"];
  }
  // The innermost coded error says what happened on the wire (fetch's own is "fetch failed").
  for (let c: unknown = e.cause, depth = 0; c instanceof Error && depth < 6; c = c.cause, depth++) {
    // The Fetch standard's port blocklist (6000 X11, 6665-6669 IRC, ...): undici enforces it.
    if (c.message === "bad port") return [EXIT_FAILED, `cannot connect to ${url.host}: fetch refuses port ${url.port} (a "bad port" in the Fetch standard)`];
    const code = (c as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    if (TLS_ERROR.test(code)) return [EXIT_TLS, `TLS: ${c.message} (${code})`];
    const what = NETWORK_CODES[code];
    if (what !== undefined) return [EXIT_FAILED, `${opened ? "the stream broke" : `cannot connect to ${url.host}`}: ${what} (${code})`];
  }
  return [EXIT_FAILED, e.message ?? "connection failed"];
}
