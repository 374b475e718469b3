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
import { parseCount, parseHeaders, parseTime, parseUrl, usageErrorMessage } from "./args.js";
import { causeText, EXIT, type Ending, type ErrorFields, failureEnding, UsageError } from "./exit.js";
import { type EndReason, type RecordingHeader, RecordingWriter } from "./recording.js";
import { onStopSignal, type SignalTarget } from "./signals.js";

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

Exit status: 0 when the stream ended (or the server answered 204 No Content: no file),
--count or --duration; 130 (SIGINT) and 143 (SIGTERM) after closing the file; otherwise as
"eventsource-wasm --help" lists (2 bad usage, 3 HTTP status, 4 not text/event-stream,
6 TLS, 7 redirects, 1 anything else).
`;

export interface RecordOptions {
  url: URL;
  output: string;
  headers: Record<string, string>;
  count: number | undefined;
  duration: number | undefined;
}

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
  const url = parseUrl(positionals[0]!);
  const headers = parseHeaders(values.header ?? []);
  const count = values.count === undefined ? undefined : parseCount("count", values.count, 1);
  const duration = values.duration === undefined ? undefined : parseTime("duration", values.duration);
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
  signals: SignalTarget;
}

const processIo = (): CommandIo => ({ stdout: process.stdout, stderr: process.stderr, signals: process });

export async function runRecord(argv: readonly string[], io: CommandIo = processIo()): Promise<number> {
  let o: RecordOptions | "help";
  try {
    o = parseRecordArgs(argv);
  } catch (error) {
    const message = usageErrorMessage(error);
    if (message === undefined) throw error;
    io.stderr.write(`error: ${message}\nTry 'eventsource-wasm record --help' for usage.\n`);
    return EXIT.USAGE;
  }
  if (o === "help") {
    io.stdout.write(RECORD_HELP);
    return EXIT.OK;
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
    stopSignals();
    source.close();
    try {
      if (writer !== undefined && reason !== undefined) writer.end(performance.now() - received!.at, reason);
      writer?.close();
    } catch (error) {
      message ??= `error: writing ${o.output}: ${causeText(error)}`;
      code = EXIT.FAILED;
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
        finish(EXIT.OK, "count");
        return { done: true };
      }
      const r = await reader.read();
      if (done) return r;
      const w = startWriting();
      if (r.done) {
        finish(EXIT.OK, "eof");
        return r;
      }
      try {
        w.frame(performance.now() - received!.at, r.value);
      } catch (error) {
        finish(EXIT.FAILED, undefined, `error: writing ${o.output}: ${(error as Error).message}`);
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
      finish(EXIT.FAILED, undefined, `error: cannot write ${o.output}: ${(error as Error).message}`);
      return;
    }
    if (o.duration !== undefined) {
      const left = o.duration - (performance.now() - received!.at);
      durationTimer = setTimeout(() => finish(EXIT.OK, "duration"), Math.max(0, left));
    }
  });
  source.addEventListener("error", (e) => {
    // An event over the parser's bound is skipped by the client, but its bytes are recorded.
    if (done || e.code === "EVENT_TOO_LARGE" || e.code === "LAST_EVENT_ID_NOT_SENT") return;
    // No reconnection (maxAttempts 0): the failure is the cause, not "retries ran out".
    const failure = e.code === "MAX_ATTEMPTS" && e.cause instanceof Error ? (e.cause as ErrorFields) : e;
    const { code, message } = fetchRefusal(failure, o.url) ?? failureEnding(failure, { verbose: true, tlsOptions: false });
    finish(code, "error", message);
  });

  const stopSignals = onStopSignal((code) => finish(code, "signal"), io.signals);
  return exit;
}

/**
 * Fetch (which only this command uses) refuses the Fetch standard's blocked ports (6000 X11,
 * 6665-6669 IRC, ...) with a bare "bad port": said here with the port, and why.
 */
function fetchRefusal(e: ErrorFields, url: URL): Ending | undefined {
  for (let c: unknown = e.cause, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) {
    if (c.message === "bad port") {
      return { code: EXIT.FAILED, message: `error: cannot connect to ${url.host}: fetch refuses port ${url.port} (a "bad port" in the Fetch standard)` };
    }
  }
  return undefined;
}
