// Command-line parsing for `eventsource-wasm`, kept apart from main.ts (which runs on import)
// so the rules can be read, and tested, without starting anything.

import { parseArgs } from "node:util";
import type { EngineChoice } from "../index.js";
import { UsageError } from "./exit.js";
import { proxyUrl } from "./proxy.js";

export interface CliOptions {
  url: URL;
  headers: Record<string, string>;
  lastEventId?: string;
  /** Event types to print; empty: every event. */
  events: string[];
  engine: EngineChoice;
  maxEventSize?: number;
  idleTimeout?: number;
  eventTimeout?: number;
  retries?: number;
  /** --retry-status: HTTP statuses reconnected after, like a network error. */
  retryStatuses?: number[];
  count?: number;
  method?: string;
  body?: string;
  /** -d @file: the body is this file's content ("-": stdin), read when the run starts. */
  bodyFile?: string;
  pretty: boolean;
  /** --no-color (the environment and the terminal decide otherwise). */
  noColor: boolean;
  /** -k: accept any certificate. */
  insecure: boolean;
  /** --cacert: a PEM file of CA certificates to trust instead of the default list. */
  caFile?: string;
  /** -x: the proxy (else HTTPS_PROXY/HTTP_PROXY; NO_PROXY applies to both). */
  proxy?: string;
  stats: boolean;
  /** Refresh period of the --stats line in ms; default 250 on a terminal, 1000 otherwise. */
  statsInterval?: number;
  verbose: boolean;
  quiet: boolean;
}

export type ParsedCli =
  | { kind: "run"; options: CliOptions }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "usage-error"; message: string };

/** The subcommands and what each does, for --help; main.ts has a loader for each. */
export const SUBCOMMANDS = {
  ingest: "Read SSE feeds into NATS JetStream, exactly once.",
  record: "Save a stream's bytes and their timing to a file.",
  replay: "Serve a recording on 127.0.0.1 as the server sent it.",
} as const;
export type Subcommand = keyof typeof SUBCOMMANDS;

const COMMANDS = Object.entries(SUBCOMMANDS)
  .map(([name, summary]) => `  ${name.padEnd(26)}${summary}\n`)
  .join("");

export const HELP = `Usage: eventsource-wasm [options] <url>
       eventsource-wasm <command> [options]

Connect to a Server-Sent Events stream and print every event on stdout, one JSON
object per line: {"type":"message","data":"...","id":"..."}. Reconnects (with
Last-Event-ID) when the connection drops, as a browser's EventSource does. A URL
without a scheme (host:port/path) is http://.

Commands ("eventsource-wasm <command> --help" for each):
${COMMANDS}
Options:
  -H, --header "Name: value"  Add a request header (repeatable).
      --last-event-id <id>    Send Last-Event-ID on the first connection (resume).
  -e, --event <type>          Print only events of this type (repeatable). Without it,
                              every event is printed, whatever its type.
      --pretty                Readable output instead of NDJSON (coloured on a
                              terminal that has colours; NO_COLOR, FORCE_COLOR).
      --no-color              No colour, whatever the terminal or FORCE_COLOR say.
  -n, --count <n>             Exit (status 0) after printing n events.
      --engine <name>         Parser engine: auto (default), wasm or js.
      --max-event-size <size> Largest event accepted, in bytes (suffixes k, m, g
                              for KiB, MiB, GiB; default 16m). A larger event is
                              skipped, with a warning on stderr; the stream goes on.
      --idle-timeout <time>   Reconnect when no byte arrives for this long
                              (milliseconds, or with a unit: 500ms, 30s, 2m).
      --event-timeout <time>  Reconnect when no event arrives for this long, even
                              if heartbeats do (the same units).
      --retries <n>           Give up after n failed reconnection attempts in a row
                              (default: never give up; 0: do not reconnect).
      --retry-status <list>   Reconnect after these HTTP statuses instead of exiting
                              (e.g. 429,502,503,504; repeatable). A Retry-After
                              header sets the delay.
  -X, --method <method>       HTTP method (default GET).
  -d, --data <body>           Request body (for POST and the like), sent again on
                              every reconnection. @file reads it from a file,
                              @- from stdin.
  -k, --insecure              Accept any TLS certificate (local servers, tests).
      --cacert <file>         Trust the CA certificates of this PEM file (instead
                              of the default list).
  -x, --proxy <url>           HTTP proxy ([http://][user:pass@]host:port): a CONNECT
                              tunnel for https. Default: HTTPS_PROXY / HTTP_PROXY
                              (or lower case); NO_PROXY lists hosts to reach directly.
      --stats                 Live line on stderr: events/s, MB/s, reconnects, engine,
                              time since the last event; a summary when it ends.
      --stats-interval <time> Refresh period of --stats (default 250ms on a terminal,
                              1s otherwise).
  -v, --verbose               Also report requests, connections (the final URL after
                              redirects) and every reconnection on stderr.
  -q, --quiet                 No warnings on stderr (failed attempts, skipped
                              events); the error that ends a run is still printed.
  -h, --help                  Show this help.
  -V, --version               Show the version.

Failed connection attempts are reported on stderr (the reason, the delay, the
attempt number and the Last-Event-ID sent), once per change of reason.

Whatever ends a run that printed events, the last two lines of stderr then say
where to resume from (not when the last event had no id, or stdout was closed):
  last event id: <id of the last event printed>
  resume with: eventsource-wasm --last-event-id <id> <the same options and URL>

Exit status (the reason is on stderr):
  0    --count reached, the reader of stdout went away (e.g. "| head"), or the
       server said it is done (HTTP 204).
  1    Another failure (e.g. writing the output).
  2    Bad usage: unknown option, bad value, missing or invalid URL, unreadable
       --data @file or --cacert file.
  3    An HTTP status other than 200 (and 204), unless --retry-status lists it.
  4    A response that is not text/event-stream.
  5    Reconnections ran out (--retries).
  6    TLS: the server's certificate was not accepted (see --cacert, -k).
  7    A bad redirect, or too many.
  130  Interrupted (Ctrl-C, SIGINT), after writing the events read so far.
  143  Terminated (SIGTERM), after writing the events read so far.

Examples:
  eventsource-wasm https://example.com/stream
  eventsource-wasm -H "Authorization: Bearer $TOKEN" --event tick --count 10 <url>
  eventsource-wasm --stats <url> > events.ndjson
  eventsource-wasm <url> | jq -r .data
`;

/** The options of `eventsource-wasm <url>`, for node:util's parseArgs. */
export const CLI_OPTIONS = {
  header: { type: "string", short: "H", multiple: true },
  "last-event-id": { type: "string" },
  event: { type: "string", short: "e", multiple: true },
  pretty: { type: "boolean" },
  count: { type: "string", short: "n" },
  engine: { type: "string" },
  "max-event-size": { type: "string" },
  "idle-timeout": { type: "string" },
  "event-timeout": { type: "string" },
  retries: { type: "string" },
  "retry-status": { type: "string", multiple: true },
  method: { type: "string", short: "X" },
  data: { type: "string", short: "d" },
  insecure: { type: "boolean", short: "k" },
  cacert: { type: "string" },
  proxy: { type: "string", short: "x" },
  "no-color": { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  stats: { type: "boolean" },
  "stats-interval": { type: "string" },
  verbose: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const TIME_UNITS: Record<string, number> = { "": 1, ms: 1, s: 1000, m: 60_000 };
const COUNT: Record<string, number> = { "": 1 };

function parseQuantity(
  name: string,
  value: string,
  units: Record<string, number>,
  { min, integer = false }: { min: number; integer?: boolean },
): number {
  // Counts are whole numbers; sizes and times may be written 1.5m or 0.5s.
  const m = (integer ? /^\s*(\d+)\s*()$/ : /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i).exec(value);
  const unit = m?.[2]?.toLowerCase().replace(/i?b$/, "") ?? "";
  const factor = m ? units[unit] : undefined;
  if (!m || factor === undefined) throw new UsageError(`invalid value for --${name}: ${JSON.stringify(value)}`);
  const n = Math.round(Number(m[1]) * factor);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`invalid value for --${name}: ${JSON.stringify(value)} (must be at least ${min})`);
  }
  return n;
}

/** A time option (milliseconds, or with a unit: 500ms, 30s, 2m), at least `min` ms. */
export const parseTime = (name: string, value: string, min = 1): number => parseQuantity(name, value, TIME_UNITS, { min });

/** A whole-number option, at least `min`. */
export const parseCount = (name: string, value: string, min: number): number => parseQuantity(name, value, COUNT, { min, integer: true });

// RFC 9110 token: what a header name may contain.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** -H "Name: value", repeatable: the request headers of every command that makes a request. */
export function parseHeaders(raws: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of raws) parseHeader(raw, headers);
  return headers;
}

function parseHeader(raw: string, into: Record<string, string>): void {
  const colon = raw.indexOf(":");
  const name = colon < 0 ? "" : raw.slice(0, colon).trim();
  if (!TOKEN.test(name)) throw new UsageError(`invalid header ${JSON.stringify(raw)} (expected "Name: value")`);
  const value = raw.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) throw new UsageError(`invalid header value for ${name}`);
  // Repeated names are joined as HTTP does for list-valued headers.
  const key = Object.keys(into).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
  into[key] = key in into ? `${into[key]}, ${value}` : value;
}

export function parseCli(argv: readonly string[]): ParsedCli {
  try {
    return parseCliOrThrow(argv);
  } catch (error) {
    const message = usageErrorMessage(error);
    if (message === undefined) throw error;
    return { kind: "usage-error", message };
  }
}

/** What the bad usage a command's parsing threw says; undefined if it threw anything else. */
export function usageErrorMessage(error: unknown): string | undefined {
  if (error instanceof UsageError) return error.message;
  // parseArgs throws TypeErrors with a code (ERR_PARSE_ARGS_UNKNOWN_OPTION, …) and a
  // message that is already meant for people.
  if (error instanceof Error && String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
    return error.message.replace(/\. To specify a positional.*$/s, "");
  }
  return undefined;
}

function parseCliOrThrow(argv: readonly string[]): ParsedCli {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: CLI_OPTIONS });

  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  if (positionals.length === 0) throw new UsageError("missing <url>");
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])} (one URL only)`);
  const url = parseUrl(positionals[0]!);
  const headers = parseHeaders(values.header ?? []);

  const engine = values.engine ?? "auto";
  if (engine !== "auto" && engine !== "wasm" && engine !== "js") {
    throw new UsageError(`invalid value for --engine: ${JSON.stringify(engine)} (expected auto, wasm or js)`);
  }

  const lastEventId = values["last-event-id"];
  if (lastEventId !== undefined && /[\r\n\0]/.test(lastEventId)) {
    throw new UsageError("invalid value for --last-event-id (no CR, LF or NUL)");
  }
  if (values.proxy !== undefined && values.proxy !== "") {
    let proxy: URL | undefined;
    try {
      proxy = new URL(proxyUrl(values.proxy));
    } catch {
      // reported below
    }
    if (proxy?.protocol !== "http:") throw new UsageError(`invalid value for --proxy: ${JSON.stringify(values.proxy)} (expected [http://]host:port)`);
  }
  const events = values.event ?? [];
  if (events.some((t) => t === "")) throw new UsageError("--event needs a type name");

  const opt = (name: string, v: string | undefined, units: Record<string, number>, min: number) =>
    v === undefined ? undefined : parseQuantity(name, v, units, { min, integer: units === COUNT });

  return {
    kind: "run",
    options: {
      url,
      headers,
      lastEventId,
      events,
      engine,
      maxEventSize: opt("max-event-size", values["max-event-size"], SIZE_UNITS, 1),
      idleTimeout: opt("idle-timeout", values["idle-timeout"], TIME_UNITS, 1),
      eventTimeout: opt("event-timeout", values["event-timeout"], TIME_UNITS, 1),
      retries: opt("retries", values.retries, COUNT, 0),
      ...retryStatusOption(values["retry-status"]),
      count: opt("count", values.count, COUNT, 1),
      method: values.method?.toUpperCase(),
      ...dataOption(values.data),
      noColor: values["no-color"] ?? false,
      insecure: values.insecure ?? false,
      caFile: values.cacert,
      proxy: values.proxy,
      quiet: values.quiet ?? false,
      pretty: values.pretty ?? false,
      stats: values.stats ?? false,
      statsInterval: opt("stats-interval", values["stats-interval"], TIME_UNITS, 10),
      verbose: values.verbose ?? false,
    },
  };
}

/** The URL of a command that makes a request: http or https, http:// if it has no scheme. */
export function parseUrl(given: string): URL {
  // curl's habit: `localhost:8080/feed` means http://. (A scheme is followed by "//" in any
  // URL this command can fetch; without it, "localhost:" would parse as a scheme.)
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) || /^[a-z][a-z0-9+.-]*:[^\d]/i.test(given) ? given : `http://${given}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`invalid URL ${JSON.stringify(given)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`invalid URL ${JSON.stringify(given)} (only http: and https: are supported)`);
  }
  return url;
}

/** curl's -d: "@file" is the file's content, "@-" stdin; anything else is the body itself. */
function dataOption(data: string | undefined): { body?: string; bodyFile?: string } {
  if (data === undefined) return {};
  if (data.startsWith("@")) {
    if (data.length === 1) throw new UsageError("--data @ needs a file name (or @- for stdin)");
    return { bodyFile: data.slice(1) };
  }
  return { body: data };
}

/**
 * --retry-status 502,503,504 (repeatable, the lists joined): statuses reconnected after. 200
 * is not a failure, and a redirect with a Location is followed before any retry.
 */
function retryStatusOption(lists: string[] | undefined): { retryStatuses?: number[] } {
  if (lists === undefined) return {};
  const statuses = new Set<number>();
  for (const item of lists.flatMap((list) => list.split(","))) {
    const status = /^\s*(\d{3})\s*$/.exec(item)?.[1];
    const n = Number(status);
    if (status === undefined || n < 100 || n > 599 || n === 200) {
      throw new UsageError(`invalid value for --retry-status: ${JSON.stringify(item)} (expected HTTP statuses other than 200, e.g. 502,503,504)`);
    }
    statuses.add(n);
  }
  return { retryStatuses: [...statuses] };
}
