// `eventsource-wasm ingest`: read SSE feeds into a NATS JetStream stream, shared with every
// other `ingest` process given the same feeds. Loaded by main.ts only for this subcommand,
// so the plain client never touches the NATS packages.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
// Types only: the NATS entry is imported when `ingest` runs, so a plain `eventsource-wasm <url>`
// never loads it (in dist/ it is ./nats.js, not bundled into cli.js).
import type { FeedSpec, IngestOptions, IngestStats } from "../nats/index.js";
import { EXIT, thrownMessage } from "./exit.js";
import { onStopSignal } from "./signals.js";

export const INGEST_HELP = `Usage: eventsource-wasm ingest --nats <url> --stream <name> --subject <prefix>
         --feed <name>=<url> [--feed ...] [--feeds <file>] [options]

Read Server-Sent Events feeds into NATS JetStream, exactly once for events with ids.
Each event becomes a message on <prefix>.<feed name> (data as payload; headers Sse-Event,
Sse-Id, Nats-Msg-Id). Run as many workers as you like with the same feeds: they share
them through leases in a JetStream key-value bucket, and each feed resumes from the
last Sse-Id in the stream. Needs the packages @nats-io/transport-node, @nats-io/jetstream
and @nats-io/kv, and a nats-server with JetStream (-js).

Options:
      --nats <url>            NATS server (repeatable; default nats://127.0.0.1:4222).
      --stream <name>         Stream (created with subjects <prefix>.> when missing).
      --subject <prefix>      Subject prefix.
      --feed <name>=<url>     A feed (repeatable). Names: letters, digits, _ and -.
      --feeds <file>          Feeds from a file, one "name=url" a line (# comments).
  -H, --header "Name: value"  Request header for every feed (repeatable).
      --worker-id <id>        This worker's name (default <host>-<pid>).
      --lease-ttl <time>      Lease lifetime after the last renewal (default 5s; the
                              same for every worker). Units: ms, s, m.
      --lease-bucket <name>   Key-value bucket of leases (default <stream>_leases).
      --max-unacked <n>       Unacknowledged publishes per feed before the feed's
                              socket is paused (default 4096).
      --stats                 Per feed on stderr every second: events/s, lag since the
                              last event, owner.
      --stats-interval <time> Period of --stats (default 1s).
  -v, --verbose               Log leases taken and released, feed errors, reconnections.
  -h, --help                  Show this help.

SIGTERM or SIGINT: stop reading, wait for the publishes to be acknowledged, release the
leases (other workers take the feeds at once) and exit 0.
`;

export type ParsedIngest =
  | { kind: "run"; options: IngestOptions; stats: boolean; statsInterval: number; verbose: boolean }
  | { kind: "help" }
  | { kind: "usage-error"; message: string };

/** "500ms", "2s", "1m", or a plain number of seconds. */
export function parseDuration(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(n * (unit === "ms" ? 1 : unit === "s" ? 1000 : 60_000));
}

function parseFeed(raw: string, where: string, feedName: RegExp): FeedSpec {
  const at = raw.indexOf("=");
  if (at <= 0) throw new Error(`${where}: expected <name>=<url>, got ${JSON.stringify(raw)}`);
  const name = raw.slice(0, at).trim();
  const url = raw.slice(at + 1).trim();
  // One subject token and one KV key token.
  if (!feedName.test(name)) throw new Error(`${where}: feed name ${JSON.stringify(name)}: use letters, digits, _ and -`);
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new Error(`${where}: feed ${name}: not an http(s) URL: ${JSON.stringify(url)}`);
  }
  return { name, url };
}

export function parseIngest(argv: readonly string[], feedName: RegExp): ParsedIngest {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        nats: { type: "string", multiple: true },
        stream: { type: "string" },
        subject: { type: "string" },
        feed: { type: "string", multiple: true },
        feeds: { type: "string" },
        header: { type: "string", short: "H", multiple: true },
        "worker-id": { type: "string" },
        "lease-ttl": { type: "string" },
        "lease-bucket": { type: "string" },
        "max-unacked": { type: "string" },
        stats: { type: "boolean" },
        "stats-interval": { type: "string" },
        verbose: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { kind: "usage-error", message: (error as Error).message };
  }
  if (values.help) return { kind: "help" };
  try {
    if (!values.stream) throw new Error("--stream is required");
    if (!values.subject) throw new Error("--subject is required");
    const feeds = (values.feed ?? []).map((f) => parseFeed(f, "--feed", feedName));
    if (values.feeds) {
      const lines = readFileSync(values.feeds, "utf8").split(/\r?\n/);
      lines.forEach((line, i) => {
        const t = line.trim();
        if (t !== "" && !t.startsWith("#")) feeds.push(parseFeed(t, `${values.feeds}:${i + 1}`, feedName));
      });
    }
    if (feeds.length === 0) throw new Error("no feeds: give --feed <name>=<url> or --feeds <file>");
    const headers: Record<string, string> = {};
    for (const h of values.header ?? []) {
      const colon = h.indexOf(":");
      if (colon <= 0) throw new Error(`-H: expected "Name: value", got ${JSON.stringify(h)}`);
      headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
    }
    const duration = (flag: string, raw: string | undefined): number | undefined => {
      if (raw === undefined) return undefined;
      const ms = parseDuration(raw);
      if (ms === undefined || ms <= 0) throw new Error(`${flag}: not a duration: ${JSON.stringify(raw)}`);
      return ms;
    };
    let maxUnacked: number | undefined;
    if (values["max-unacked"] !== undefined) {
      maxUnacked = Number(values["max-unacked"]);
      if (!Number.isInteger(maxUnacked) || maxUnacked < 1) throw new Error("--max-unacked: a whole number >= 1");
    }
    const options: IngestOptions = {
      servers: values.nats ?? ["nats://127.0.0.1:4222"],
      stream: values.stream,
      subject: values.subject,
      feeds,
      headers,
      ...(values["worker-id"] !== undefined ? { workerId: values["worker-id"] } : {}),
      ...(values["lease-ttl"] !== undefined ? { leaseTtl: duration("--lease-ttl", values["lease-ttl"]) } : {}),
      ...(values["lease-bucket"] !== undefined ? { bucket: values["lease-bucket"] } : {}),
      ...(maxUnacked !== undefined ? { maxUnacked } : {}),
      trackOwners: values.stats === true,
    };
    return {
      kind: "run",
      options,
      stats: values.stats === true,
      statsInterval: duration("--stats-interval", values["stats-interval"]) ?? 1000,
      verbose: values.verbose === true,
    };
  } catch (error) {
    return { kind: "usage-error", message: (error as Error).message };
  }
}

/** The --stats block: one line per feed. */
export function formatIngestStats(s: IngestStats): string {
  const head = `worker ${s.workerId}: ${s.held} of ${s.feeds.length} feeds (share ${s.share}, ${s.workers} worker${s.workers === 1 ? "" : "s"})${s.connected ? "" : ", NATS disconnected"}`;
  const lines = s.feeds.map((f) => {
    const lag = f.lagMs === null ? "-" : `${(f.lagMs / 1000).toFixed(1)}s`;
    const owner = f.owner ?? "-";
    return `  ${f.feed}  ${f.eventsPerSecond.toFixed(0)} ev/s  lag ${lag}  owner ${owner}  stored ${f.published}  unacked ${f.unacked}${f.lastError && f.reading ? `  last error: ${f.lastError}` : ""}`;
  });
  return `${[head, ...lines].join("\n")}\n`;
}

export async function runIngest(argv: readonly string[]): Promise<number> {
  const { FEED_NAME, ingest } = await import("../nats/index.js");
  const parsed = parseIngest(argv, FEED_NAME);
  if (parsed.kind === "help") {
    process.stdout.write(INGEST_HELP);
    return EXIT.OK;
  }
  if (parsed.kind === "usage-error") {
    process.stderr.write(`error: ${parsed.message}\nTry 'eventsource-wasm ingest --help' for usage.\n`);
    return EXIT.USAGE;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const options: IngestOptions = parsed.verbose ? { ...parsed.options, onLog: log } : parsed.options;
  let worker;
  try {
    worker = await ingest(options);
  } catch (error) {
    log(thrownMessage(error));
    return EXIT.FAILED;
  }
  if (parsed.verbose) log(`worker ${worker.workerId} started`);
  let timer: NodeJS.Timeout | undefined;
  if (parsed.stats) timer = setInterval(() => process.stderr.write(formatIngestStats(worker.stats())), parsed.statsInterval);
  // Either signal is a clean stop here (exit 0): the leases are released for other workers.
  await new Promise<void>((resolve) => onStopSignal(() => resolve()));
  clearInterval(timer);
  await worker.stop();
  if (parsed.verbose) log(`worker ${worker.workerId} stopped; leases released`);
  return EXIT.OK;
}
