// `eventsource-wasm replay <file>`: serve a recording (recording.ts) on 127.0.0.1 as the
// recorded server did: its status and headers, then each recorded chunk as one write at its
// recorded time (scaled by --speed), to every connection from the start.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { usageErrorMessage } from "./args.js";
import { causeText, EXIT, UsageError } from "./exit.js";
import type { CommandIo } from "./record.js";
import { type Recording, RecordingError, readRecording } from "./recording.js";
import { onStopSignal } from "./signals.js";

export const REPLAY_HELP = `Usage: eventsource-wasm replay <file> [--port N] [--speed X | --as-fast-as-possible] [--loop]

Serve a recording made by "eventsource-wasm record" on 127.0.0.1, as the recorded server
sent it: the same status and headers (less the content coding and framing: the body is
sent decoded), then each recorded chunk in one write at its recorded time. Every
connection, whatever its path, gets the recording from the start. The URL is printed
on stdout; SIGINT or SIGTERM stops the server.

Options:
  -p, --port <n>              Port to listen on (default: any free port).
      --speed <x>             Play x times as fast (0.5: half speed; default 1).
      --as-fast-as-possible   No waiting between chunks (still one write each).
      --loop                  After the last chunk, play the recording again on the same
                              connection (a leading BOM is sent the first time only),
                              forever, instead of ending the response.
  -h, --help                  Show this help.

Exit status: 2 for bad usage or a file that is not a readable recording, 1 when the
port cannot be listened on, 130 (SIGINT) and 143 (SIGTERM) when stopped.
`;

export interface ReplayOptions {
  /** 0: any free port. */
  port: number;
  /** Time scale: a frame recorded at t ms is written at t / speed; Infinity: no waiting. */
  speed: number;
  loop: boolean;
}

// Headers that described the recorded body's coding and framing. The recorder stored the
// decoded body, and Node frames the replayed one (chunked) itself.
const NOT_REPLAYED = new Set(["content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"]);
const BOM = [0xef, 0xbb, 0xbf];

export interface ReplayServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts serving `rec` on 127.0.0.1 (only: a recording is not for the network). */
export async function serveRecording(rec: Recording, o: ReplayOptions): Promise<ReplayServer> {
  const raw: string[] = [];
  for (const [name, value] of rec.header.headers) if (!NOT_REPLAYED.has(name.toLowerCase())) raw.push(name, value);
  const closing = new AbortController();
  // A failure to send (a status text Node refuses, say) drops that connection, not the server.
  const server = createServer((req, res) => void play(rec, o, req, res, raw, closing.signal).catch(() => res.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function play(rec: Recording, o: ReplayOptions, req: IncomingMessage, res: ServerResponse, raw: string[], closing: AbortSignal): Promise<void> {
  req.resume();
  res.socket?.setNoDelay(true);
  let gone = closing.aborted;
  let wake: (() => void) | undefined;
  const stop = (): void => {
    gone = true;
    wake?.();
  };
  res.once("close", stop);
  closing.addEventListener("abort", stop, { once: true });
  // Waits until `at` ms of the recording (scaled), or a turn of the event loop if that has
  // passed: each frame then leaves in a write of its own, and a looping replay as fast as
  // possible still lets the server answer signals and new connections.
  const start = performance.now();
  const until = (at: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const due = start + at / o.speed;
      if (due <= performance.now()) {
        const immediate = setImmediate(resolve);
        wake = () => (clearImmediate(immediate), resolve());
        return;
      }
      // libuv's timers count whole ms from a clock read once per turn: one may fire a little
      // early, and then waits again for what is left.
      let timer: NodeJS.Timeout;
      const check = (): void => {
        const left = due - performance.now();
        if (left <= 0) resolve();
        else timer = setTimeout(check, Math.ceil(left));
      };
      check();
      wake = () => (clearTimeout(timer), resolve());
    });
  const drained = (): Promise<void> =>
    new Promise<void>((resolve) => {
      res.once("drain", resolve);
      wake = resolve;
    });

  try {
    res.writeHead(rec.header.status, rec.header.statusText || undefined, raw);
    // Headers now, as the recorded server sent them before its first chunk.
    res.flushHeaders();
    const last = rec.end?.at ?? rec.frames.at(-1)?.at ?? 0;
    for (let round = 0, base = 0; !gone; round++, base += last) {
      for (let i = 0; i < rec.frames.length && !gone; i++) {
        const frame = rec.frames[i]!;
        await until(base + frame.at);
        if (gone) break;
        let bytes = frame.bytes;
        // A BOM is only a BOM at the start of the stream; later it would spoil the first line.
        if (round > 0 && i === 0 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2]) bytes = bytes.subarray(3);
        // One write per recorded chunk: corked, Node's chunk-size line, the bytes and the
        // CRLF leave together, and uncorking sends them now rather than with the next chunk.
        res.cork();
        const ok = res.write(bytes);
        res.uncork();
        if (!ok && !gone) await drained();
      }
      if (!o.loop || gone) break;
      // An empty recording has nothing to loop: hold the connection as an idle stream does.
      if (rec.frames.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    }
    if (!gone) {
      await until(last);
      if (!gone) res.end();
    }
  } finally {
    closing.removeEventListener("abort", stop);
  }
}

export function parseReplayArgs(argv: readonly string[]): { file: string; options: ReplayOptions } | "help" {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: "string", short: "p" },
      speed: { type: "string" },
      "as-fast-as-possible": { type: "boolean" },
      loop: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "missing <file>" : "one recording only");
  let port = 0;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d{1,5}$/.test(values.port) || port > 65535) throw new UsageError(`invalid value for --port: ${JSON.stringify(values.port)}`);
  }
  if (values.speed !== undefined && values["as-fast-as-possible"]) throw new UsageError("--speed and --as-fast-as-possible exclude each other");
  let speed = values["as-fast-as-possible"] ? Infinity : 1;
  if (values.speed !== undefined) {
    speed = /^\d+(\.\d+)?x?$/.test(values.speed) ? Number.parseFloat(values.speed) : NaN;
    if (!(speed > 0)) throw new UsageError(`invalid value for --speed: ${JSON.stringify(values.speed)} (a number above 0)`);
  }
  return { file: positionals[0]!, options: { port, speed, loop: values.loop ?? false } };
}

export async function runReplay(
  argv: readonly string[],
  io: CommandIo = { stdout: process.stdout, stderr: process.stderr, signals: process },
): Promise<number> {
  const usage = (message: string): number => {
    io.stderr.write(`error: ${message}\nTry 'eventsource-wasm replay --help' for usage.\n`);
    return EXIT.USAGE;
  };
  let parsed: ReturnType<typeof parseReplayArgs>;
  try {
    parsed = parseReplayArgs(argv);
  } catch (error) {
    const message = usageErrorMessage(error);
    if (message === undefined) throw error;
    return usage(message);
  }
  if (parsed === "help") {
    io.stdout.write(REPLAY_HELP);
    return EXIT.OK;
  }
  const { file, options } = parsed;
  let rec: Recording;
  try {
    rec = readRecording(file);
  } catch (error) {
    if (error instanceof RecordingError) {
      io.stderr.write(`error: ${file}: ${error.message}\n`);
      return EXIT.USAGE;
    }
    return usage(`cannot read ${file}: ${causeText(error)}`);
  }
  if (rec.truncatedAt !== undefined) {
    io.stderr.write(
      `warning: ${file} is cut short at byte ${rec.truncatedAt} (its recorder stopped mid-write): ` +
        `replaying the ${rec.frames.length} whole chunks before it\n`,
    );
  }
  let server: ReplayServer;
  try {
    server = await serveRecording(rec, options);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === "EADDRINUSE" ? "address already in use" : code === "EACCES" ? "permission denied" : (error as Error).message;
    io.stderr.write(`error: cannot listen on 127.0.0.1:${options.port}: ${why}${typeof code === "string" ? ` (${code})` : ""}\n`);
    return EXIT.FAILED;
  }
  io.stdout.write(`${server.url}\n`);
  return new Promise<number>((resolve) => {
    const stopSignals = onStopSignal((code) => {
      stopSignals();
      void server.close().then(() => resolve(code));
    }, io.signals);
  });
}
