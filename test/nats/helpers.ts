/**
 * Real components for the ingest tests: a `nats-server -js` on 127.0.0.1 (free port, temp
 * store dir, stopped and restarted at will), SSE feed servers that honour Last-Event-ID
 * and can cut connections at random byte offsets, workers running the built CLI, and a
 * reader of everything a stream holds.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
// Seeded (mulberry32), so that a failing run can be replayed.
import { prng } from "../../bench/fixtures.mjs";

export const root = fileURLToPath(new URL("../..", import.meta.url));
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until(cond: () => boolean | Promise<boolean>, timeout: number, what: string): Promise<number> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(20);
  }
  return Date.now() - start;
}

export function natsServerAvailable(): boolean {
  return spawnSync("nats-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Build dist/ once if it is missing (CI builds it before the tests). */
export function ensureDist(): void {
  if (!existsSync(join(root, "dist/cli.js")) || !existsSync(join(root, "dist/nats.js"))) {
    spawnSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Stop (SIGTERM: the server flushes its store) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL (works on a paused server too: nothing more is answered) and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same port with the same store. */
  start(): Promise<void>;
  /** Stop and remove the store. */
  dispose(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that holds connections open but answers nothing. */
  pause(): void;
  resume(): void;
}

export async function startNats({ jetstream = true } = {}): Promise<NatsServer> {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), "esw-nats-"));
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const api: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    async start() {
      if (child) return;
      const args = ["-a", "127.0.0.1", "-p", String(port), ...(jetstream ? ["-js", "-sd", store] : [])];
      const c = spawn("nats-server", args, { stdio: "ignore" });
      child = c;
      exited = new Promise((r) => c.once("exit", () => r()));
      await until(() => portOpen(port), 10_000, "nats-server to listen");
    },
    async stop() {
      if (!child) return;
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      await exited;
      child = null;
    },
    async kill() {
      if (!child) return;
      child.kill("SIGKILL");
      await exited;
      child = null;
    },
    async dispose() {
      await api.stop();
      rmSync(store, { recursive: true, force: true });
    },
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
  };
  await api.start();
  return api;
}

export function eventData(feed: string, n: number): string {
  return `${feed} event ${n} ${"x".repeat(n % 40)}`;
}

export interface FeedOptions {
  /** Events 1..count; after the last one the connection stays open and quiet. */
  count: number;
  /** Events per 10 ms tick (default 20: 2000 events/s). */
  perTick?: number;
  /** Cut each connection after a random number of bytes up to this (0: never). */
  dropWithin?: number;
  seed?: number;
  /** False: events without an `id:` line (default true). */
  ids?: boolean;
}

export interface FeedServer {
  readonly url: string;
  /** The Last-Event-ID of every request, in order (null: none). */
  readonly lastEventIds: (string | null)[];
  readonly drops: number;
  /** Events written to sockets (a cut one included). */
  readonly sent: number;
  close(): Promise<void>;
}

/** An SSE feed of `count` events with ids 1..count, resumed after Last-Event-ID. */
export async function startFeed(name: string, options: FeedOptions): Promise<FeedServer> {
  const { count, perTick = 20, dropWithin = 0, ids = true } = options;
  const random = prng(options.seed ?? 1);
  const lastEventIds: (string | null)[] = [];
  let drops = 0;
  let sent = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const header = req.headers["last-event-id"];
    lastEventIds.push(typeof header === "string" ? header : null);
    let next = typeof header === "string" ? Number(header) + 1 : 1;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write("retry: 50\n\n");
    let budget = dropWithin > 0 ? 1 + Math.floor(random() * dropWithin) : Infinity;
    const timer = setInterval(() => {
      if (res.writableNeedDrain) return; // the client paused: wait
      let chunk = "";
      for (let i = 0; i < perTick && next <= count; i++, next++) chunk += `${ids ? `id: ${next}\n` : ""}data: ${eventData(name, next)}\n\n`;
      if (chunk === "") return;
      const bytes = Buffer.from(chunk);
      if (bytes.length >= budget) {
        // Cut inside this chunk, at a random byte: the client sees half an event.
        res.write(bytes.subarray(0, budget));
        sent += chunk.slice(0, budget).split("\n\n").length - 1;
        drops++;
        clearInterval(timer);
        res.socket?.destroy();
        return;
      }
      budget -= bytes.length;
      sent += perTick;
      res.write(bytes);
    }, 10);
    res.on("close", () => clearInterval(timer));
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/${name}`,
    lastEventIds,
    get drops() {
      return drops;
    },
    get sent() {
      return sent;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface StoredEvent {
  subject: string;
  id: string | undefined;
  type: string | undefined;
  msgId: string | undefined;
  data: string;
}

/** Every message in the stream, in stream order. */
export async function readStream(natsUrl: string, stream: string): Promise<StoredEvent[]> {
  const nc = await connect({ servers: natsUrl, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream).catch(() => null);
    if (info === null || info.state.messages === 0) return [];
    const out: StoredEvent[] = [];
    const consumer = await jetstream(nc).consumers.get(stream);
    const last = info.state.last_seq;
    const messages = await consumer.consume();
    for await (const m of messages) {
      out.push({
        subject: m.subject,
        id: m.headers?.get("Sse-Id"),
        type: m.headers?.get("Sse-Event"),
        msgId: m.headers?.get("Nats-Msg-Id"),
        data: m.string(),
      });
      if (m.seq >= last) break;
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** Messages per subject, from one stream-info request (cheap enough to poll). */
export async function countsBySubject(natsUrl: string, stream: string): Promise<Map<string, number>> {
  const nc = await connect({ servers: natsUrl, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream, { subjects_filter: ">" }).catch(() => null);
    return new Map(Object.entries(info?.state.subjects ?? {}));
  } finally {
    await nc.close();
  }
}

/** Wait until every subject holds `count` messages (or give up after `timeout`). */
export async function waitForCounts(natsUrl: string, stream: string, subjects: string[], count: number, timeout: number) {
  await until(
    async () => {
      const counts = await countsBySubject(natsUrl, stream);
      return subjects.every((s) => (counts.get(s) ?? 0) >= count);
    },
    timeout,
    `${count} messages on each of ${subjects.join(", ")}`,
  ).catch(() => {}); // the exact comparison that follows says what is missing
}

/** The ids stored per subject, in order. */
export function idsBySubject(events: StoredEvent[]): Map<string, number[]> {
  const by = new Map<string, number[]>();
  for (const e of events) {
    const list = by.get(e.subject) ?? [];
    list.push(Number(e.id));
    by.set(e.subject, list);
  }
  return by;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Which worker holds each feed's lease, read from the bucket. */
export async function leaseHolders(natsUrl: string, bucket: string): Promise<Map<string, string>> {
  const nc: NatsConnection = await connect({ servers: natsUrl, reconnect: false });
  try {
    const kv = await new Kvm(nc).open(bucket);
    const out = new Map<string, string>();
    const keys: string[] = [];
    for await (const k of await kv.keys("feeds.>")) keys.push(k);
    for (const k of keys) {
      const e = await kv.get(k);
      if (e?.operation === "PUT") out.set(k.slice("feeds.".length), e.json<{ worker: string }>().worker);
    }
    return out;
  } finally {
    await nc.close();
  }
}

/**
 * Writes a feed's lease entry again (a put: a new revision), from a connection of its own:
 * with the value it holds (as its holder's renewal would), or another.
 */
export async function rewriteLease(natsUrl: string, bucket: string, feed: string, value?: string): Promise<number> {
  const nc: NatsConnection = await connect({ servers: natsUrl, reconnect: false });
  try {
    const kv = await new Kvm(nc).open(bucket);
    const now = value ?? (await kv.get(`feeds.${feed}`))!.string();
    return await kv.put(`feeds.${feed}`, now);
  } finally {
    await nc.close();
  }
}

export interface Worker {
  readonly id: string;
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/** `node dist/cli.js ingest ...` as a child process. */
export function startWorker(id: string, args: string[]): Worker {
  const child = spawn(process.execPath, [join(root, "dist/cli.js"), "ingest", "--worker-id", id, "-v", ...args], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { id, child, stderr: () => err, exited };
}

export function killAll(workers: Worker[]): Promise<unknown> {
  return Promise.all(
    workers.map((w) => {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      return w.exited;
    }),
  );
}
