// The run of `eventsource-wasm <url>`: open the source, print its events until something ends
// the run, then say how it ended. Each other job has its module: the options (args.ts), the
// event lines (output.ts), stderr while running (status.ts, warnings.ts), the signals
// (signals.ts), the exit status and message (exit.ts), where to resume (resume.ts).

import { readFileSync } from "node:fs";
import { EventSource } from "../index.js";
import type { CliOptions } from "./args.js";
import { causeText, EXIT, failureEnding, tlsEnding, UsageError, type Ending, type ErrorFields } from "./exit.js";
import { BatchWriter, colorEnabled, formatNdjson, formatPretty, type PrintableEvent } from "./output.js";
import { proxyFor } from "./proxy.js";
import { resumeLines } from "./resume.js";
import { onStopSignal } from "./signals.js";
import { StatsReporter, StatusLine } from "./status.js";
import { ConnectionReport } from "./warnings.js";

/** The request body and TLS trust read from files (-d @file, --cacert): bad usage if unreadable. */
function readInputs(o: CliOptions): { body: string | Uint8Array | undefined; ca: string | undefined } {
  let body: string | Uint8Array | undefined = o.body;
  if (o.bodyFile !== undefined) {
    try {
      body = readFileSync(o.bodyFile === "-" ? 0 : o.bodyFile);
    } catch (error) {
      throw new UsageError(`cannot read --data @${o.bodyFile}: ${causeText(error)}`);
    }
  }
  let ca: string | undefined;
  if (o.caFile !== undefined) {
    try {
      ca = readFileSync(o.caFile, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read --cacert ${o.caFile}: ${causeText(error)}`);
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) throw new UsageError(`--cacert ${o.caFile}: no PEM certificate in it`);
  }
  return { body, ca };
}

function openSource(o: CliOptions, report: ConnectionReport, signal: AbortSignal): EventSource {
  const { body, ca } = readInputs(o);
  const tls = { ...(o.insecure ? { rejectUnauthorized: false } : {}), ...(ca !== undefined ? { ca } : {}) };
  const reconnect = {
    ...(o.retries !== undefined ? { maxAttempts: o.retries } : {}),
    ...(o.retryStatuses !== undefined ? { retryStatuses: o.retryStatuses } : {}),
  };
  return new EventSource(o.url.href, {
    headers: o.headers,
    lastEventId: o.lastEventId,
    engine: o.engine,
    maxEventSize: o.maxEventSize,
    idleTimeout: o.idleTimeout,
    eventTimeout: o.eventTimeout,
    ...(Object.keys(reconnect).length > 0 ? { reconnect } : {}),
    ...(o.method !== undefined ? { method: o.method } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
    // Per request: a redirect may go to another scheme or host (and NO_PROXY).
    proxy: (target) => proxyFor(target, o.proxy, process.env),
    onRequest: (r) => report.request(r.method, r.url, r.headers["last-event-id"]),
    signal,
  });
}

/**
 * Runs until --count, the end of the stream, a fatal error, a signal or a reader that went
 * away; resolves with the exit status once stdout and stderr have what they should.
 * `argv`: the arguments as given, for the resume line.
 */
export async function run(o: CliOptions, argv: readonly string[]): Promise<number> {
  const { stdout, stderr } = process;
  const status = new StatusLine(stderr, o.stats && stderr.isTTY === true);
  const report = new ConnectionReport(o.url, { verbose: o.verbose, quiet: o.quiet, print: (line) => status.print(line) });
  const abort = new AbortController();
  const source = openSource(o, report, abort.signal);

  const writer = new BatchWriter(stdout, undefined, status.live && stdout.isTTY === true ? (write) => status.around(write) : undefined);
  const color = colorEnabled(stdout, process.env, o.noColor);
  const format = o.pretty ? (ev: PrintableEvent) => formatPretty(ev, { color }) : formatNdjson;
  const stats = o.stats ? new StatsReporter(source, status) : undefined;
  stats?.start(o.statsInterval ?? (stderr.isTTY === true ? 250 : 1000));

  let printed = 0;
  // The id of the last event written: where a new run resumes without loss (resume.ts).
  let lastPrintedId = "";
  let ended: Ending | undefined;
  let resolveExit!: (code: number) => void;
  const exit = new Promise<number>((resolve) => (resolveExit = resolve));

  // The one way out: the first ending wins; output is flushed (unless stdout failed), then
  // the summary, the reason and where to resume go to stderr, in that order.
  const finish = async (ending: Ending, { flush = true } = {}): Promise<void> => {
    if (ended !== undefined) return;
    ended = ending;
    stats?.stop();
    stopSignals();
    abort.abort(); // closes the source
    if (flush) await writer.end().catch(() => {});
    else writer.abandon();
    status.end();
    const lines = [
      ...(stats !== undefined ? [stats.summary(printed)] : []),
      ...(ending.message !== undefined ? [ending.message] : []),
      // Unless stdout failed: what its reader got of the events written is not known then.
      ...(printed > 0 && flush ? resumeLines(argv, lastPrintedId) : []),
    ];
    if (lines.length > 0) status.print(lines.join("\n"));
    resolveExit(ending.code);
  };

  // As shells and `tail -f` do: 128 + the signal number, after what was read is written.
  const stopSignals = onStopSignal((code) => void finish({ code }));

  source.addEventListener("open", () => report.open(source.engine));
  // Fatal errors end the iterator (below); here what the stream survives.
  // A 204 fails the source without making the iterator throw (the server's "stop"): kept
  // here for the ending below.
  let failed: ErrorFields | undefined;
  source.addEventListener("error", (e) => {
    if (ended !== undefined) return;
    if (source.readyState === source.CLOSED) failed = e;
    const tls = e.willReconnect ? tlsEnding(e) : undefined;
    if (tls !== undefined) void finish(tls);
    else report.error(e, source.lastEventId);
  });

  // A reader that goes away (`| head`) is a normal way to stop: no stack trace, status 0.
  stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") void finish({ code: EXIT.OK }, { flush: false });
    else void finish({ code: EXIT.FAILED, message: `error: writing output: ${err.message}` }, { flush: false });
  });

  // Named events only reach listeners of their own type, so the CLI reads the source's
  // async iterator, which yields every type (or only the --event ones). It also gives
  // backpressure: while stdout is full the loop stops pulling, the iterator's buffer fills
  // and the source pauses the socket, so a slow reader never makes memory grow.
  void (async () => {
    try {
      for await (const ev of source.events(o.events.length > 0 ? { types: o.events } : {})) {
        if (ended !== undefined) break;
        writer.write(format({ type: ev.type, data: String(ev.data), lastEventId: ev.lastEventId }));
        printed++;
        lastPrintedId = ev.lastEventId;
        if (o.count !== undefined && printed >= o.count) break;
        if (writer.isBlocked) await writer.waitForDrain();
      }
      // The iterator ends when the source was closed (by us: signal, EPIPE), by a 204, or --count.
      await finish(failed !== undefined ? failureEnding(failed, { verbose: o.verbose }) : { code: EXIT.OK });
    } catch (error) {
      // The source failed for good; buffered events were yielded before this.
      await finish(failureEnding(error as ErrorFields, { verbose: o.verbose }));
    }
  })();
  return exit;
}
