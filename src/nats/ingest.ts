// Feeds shared by any number of workers through leases in a JetStream key-value bucket.
//
// - A lease is the key `feeds.<name>`, created with compare-and-set (revision 0: absent)
//   and renewed every TTL/4 with update(key, value, revision). The bucket's max age is the
//   TTL, so the server itself removes a lease TTL after its holder's last renewal: no clock
//   is compared across machines.
// - A worker announces itself with `workers.<id>` (renewed the same way); the live workers
//   give the share, ceil(feeds / workers). Below it a worker takes free feeds, in an order
//   of its own (rendezvous hashing, so workers rarely race for the same one); above it,
//   it drains and releases the ones it ranks lowest.
// - A worker publishes for a feed only while its last renewal, counted from when it was
//   sent, is younger than the TTL: a worker cut off from NATS stops before its lease can
//   pass to another.

import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { KV, KvEntry } from "@nats-io/kv";
import type { EventSourceOptions } from "../index.js";
import { loadNats, type NatsModules } from "./deps.js";
import { type FeedCounters, FeedRunner, zeroCounters } from "./feed.js";
import { Link, type Session } from "./link.js";
import { FEED_NAME } from "./message.js";

export interface FeedSpec {
  /** One subject token: letters, digits, `_` and `-`. */
  name: string;
  url: string;
  /** Request headers for this feed, on top of the common ones. */
  headers?: Record<string, string>;
}

export interface IngestOptions {
  /** NATS server URL(s), e.g. "nats://127.0.0.1:4222". */
  servers: string | readonly string[];
  /** The stream; created (subjects `<subject>.>`) when missing. */
  stream: string;
  /** Each event goes to `<subject>.<feed name>`. */
  subject: string;
  feeds: readonly FeedSpec[];
  /** Request headers for every feed. */
  headers?: Record<string, string>;
  /** This worker's name (default `<host>-<pid>`): letters, digits, `_` and `-`. */
  workerId?: string;
  /** Ms after its holder's last renewal that a lease expires (default 5000). Same for all workers. */
  leaseTtl?: number;
  /** The key-value bucket of leases (default `<stream>_leases`). */
  bucket?: string;
  /**
   * Unacknowledged publishes per feed before its source pauses (default 4096: the window of
   * the baseline publisher in bench/ingest.bench.mjs; with 1000, 0.76-0.78x of its rate
   * against 0.87-0.89x on a loaded 2-core machine). A feed holds up to this many events.
   */
  maxUnacked?: number;
  /** Ms to wait for one publish's acknowledgement (default 5000). */
  publishTimeout?: number;
  /** Ms a released feed may take to get its publishes acknowledged (default 5000). */
  drainTimeout?: number;
  /** EventSource options for every feed (reconnect policy, idle timeout, engine, ...). */
  source?: Omit<EventSourceOptions, "lastEventId" | "signal" | "headers">;
  /** Look up the owner of feeds held by other workers, for stats (one KV read per feed per TTL/4). */
  trackOwners?: boolean;
  /** Lines worth a log: leases taken and given up, feeds failing, NATS reconnections. */
  onLog?: (line: string) => void;
}

export interface FeedStats extends FeedCounters {
  feed: string;
  url: string;
  /** The worker holding the lease, as far as this worker knows (null: free or unknown). */
  owner: string | null;
  /** True while this worker reads the feed. */
  reading: boolean;
  /** Events stored per second since the previous stats() call. */
  eventsPerSecond: number;
  /** Ms since this worker last received an event of this feed (null: none yet). */
  lagMs: number | null;
}

export interface IngestStats {
  workerId: string;
  connected: boolean;
  /** Live workers seen in the bucket (this one included). */
  workers: number;
  /** This worker's share: ceil(feeds / workers). */
  share: number;
  held: number;
  feeds: FeedStats[];
}

interface Lease {
  rev: number;
  /** Publishing stops at this time (ms) unless a renewal succeeds before. */
  validUntil: number;
  runner: FeedRunner;
  releasing: boolean;
  /** Set once drained: no renewal may start after it (its revision would outlive the purge). */
  final: boolean;
  renewal: Promise<void> | null;
}

const WORKER_ID = /^[A-Za-z0-9_-]+$/;
const LEASE_PREFIX = "feeds.";
const WORKER_PREFIX = "workers.";

/** FNV-1a: a stable rank of (worker, feed) pairs. */
function rank(worker: string, feed: string): number {
  let h = 0x811c9dc5;
  const s = `${worker}\u0000${feed}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function isWrongRevision(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 10071 || (error instanceof Error && /wrong last sequence/i.test(error.message));
}

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A running worker; `ingest()` starts one. */
export class Ingest {
  readonly workerId: string;
  readonly #o: Required<Pick<IngestOptions, "leaseTtl" | "maxUnacked" | "publishTimeout" | "drainTimeout">> &
    IngestOptions;
  readonly #nats: NatsModules;
  readonly #link: Link;
  readonly #feeds: ReadonlyMap<string, FeedSpec>;
  readonly #kvStream: string;
  readonly #kvPrefix: string;
  readonly #leases = new Map<string, Lease>();
  /**
   * This Ingest among any with the same worker id (a second process given the same
   * `workerId`): in every entry it writes, so that it takes only its own for its own.
   */
  readonly #instance = randomBytes(6).toString("hex");
  /** The last runner of each feed this worker read, for its counters. */
  readonly #runners = new Map<string, FeedRunner>();
  readonly #owners = new Map<string, string>();
  readonly #rates = new Map<string, { at: number; published: number }>();
  #workers = 1;
  /** Revision of this worker's entry, to remove exactly it on stop. */
  #presence = 0;
  #timers: NodeJS.Timeout[] = [];
  #renewing = false;
  #ticking = false;
  #stopping: Promise<void> | null = null;

  private constructor(options: IngestOptions, nats: NatsModules) {
    this.#o = { leaseTtl: 5000, maxUnacked: 4096, publishTimeout: 5000, drainTimeout: 5000, ...options };
    this.workerId = options.workerId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, "_")}-${process.pid}`;
    this.#nats = nats;
    const feeds = new Map<string, FeedSpec>();
    for (const f of options.feeds) {
      if (!FEED_NAME.test(f.name)) throw new RangeError(`feed name ${JSON.stringify(f.name)}: use letters, digits, _ and -`);
      if (feeds.has(f.name)) throw new RangeError(`feed ${f.name} is given twice`);
      feeds.set(f.name, f);
    }
    this.#feeds = feeds;
    const bucket = options.bucket ?? `${options.stream}_leases`;
    this.#kvStream = `KV_${bucket}`;
    this.#kvPrefix = `$KV.${bucket}.`;
    const servers = typeof options.servers === "string" ? [options.servers] : [...options.servers];
    this.#link = new Link(nats, {
      servers,
      name: `eventsource-wasm ingest ${this.workerId}`,
      stream: options.stream,
      subject: options.subject,
      bucket,
      leaseTtl: this.#o.leaseTtl,
    });
  }

  static async start(options: IngestOptions): Promise<Ingest> {
    if (options.workerId !== undefined && !WORKER_ID.test(options.workerId)) {
      throw new RangeError(`worker id ${JSON.stringify(options.workerId)}: use letters, digits, _ and -`);
    }
    const ttl = options.leaseTtl ?? 5000;
    if (!(ttl >= 100 && Number.isFinite(ttl))) throw new RangeError("leaseTtl must be at least 100 ms");
    if (!(options.maxUnacked === undefined || options.maxUnacked >= 1)) throw new RangeError("maxUnacked must be at least 1");
    const nats = await loadNats();
    const ingest = new Ingest(options, nats);
    await ingest.#start();
    return ingest;
  }

  async #start(): Promise<void> {
    this.#link.onSession = (session) => void this.#verify(session);
    this.#link.onLost = (error) => this.#log(`NATS: ${text(error)}; reconnecting`);
    await this.#link.start();
    // Renewals on their own timer: a slow lease round (listing keys, taking feeds) must
    // never hold them back past the TTL.
    const period = Math.max(25, this.#o.leaseTtl / 4);
    this.#timers.push(setInterval(() => void this.#renewAll(), period));
    this.#timers.push(setInterval(() => void this.#tick(), period));
    // The first lease round waits one period, so that workers started together see each
    // other's entries before sharing (rather than the first taking everything).
    await this.#renewAll();
  }

  #log(line: string): void {
    this.#o.onLog?.(line);
  }

  /** After a reconnection: keep the leases still at our revision (or our own write), drop the others. */
  async #verify(session: Session): Promise<void> {
    for (const [name, lease] of this.#leases) {
      try {
        const entry = await session.kv.get(`${LEASE_PREFIX}${name}`);
        // Older than our last write: read before a renewal (on the new session's timer) that
        // has landed since, which decided.
        if (entry !== null && entry.revision < lease.rev) continue;
        if (entry?.revision !== lease.rev && !this.#adopt(entry, lease)) this.#lose(name, "expired");
      } catch {
        // The next tick's renewal decides.
      }
    }
    void this.#renewAll();
  }

  /**
   * Whether a lease's entry, at a revision other than ours, is still this worker's own write:
   * a renewal that landed but whose answer the connection took with it, or one landing while
   * it was checked. Its revision is then ours; nobody else's write is, not even that of
   * another Ingest with this worker id.
   */
  #adopt(entry: KvEntry | null, lease: Lease): boolean {
    if (entry === null || entry.operation !== "PUT" || entry.revision < lease.rev) return false;
    try {
      if (entry.string() !== this.#value()) return false;
    } catch {
      return false;
    }
    lease.rev = entry.revision;
    return true;
  }

  #lose(name: string, why: string): void {
    const lease = this.#leases.get(name);
    if (!lease) return;
    this.#leases.delete(name);
    lease.runner.abandon();
    this.#log(`lease ${name} lost (${why})`);
  }

  #value(): string {
    return JSON.stringify({ worker: this.workerId, instance: this.#instance });
  }

  #renew(kv: KV, name: string, lease: Lease): Promise<void> {
    if (lease.final || lease.renewal) return lease.renewal ?? Promise.resolve();
    lease.renewal = this.#update(kv, name, lease).finally(() => (lease.renewal = null));
    return lease.renewal;
  }

  async #update(kv: KV, name: string, lease: Lease): Promise<void> {
    const sentAt = Date.now();
    try {
      lease.rev = await kv.update(`${LEASE_PREFIX}${name}`, this.#value(), lease.rev);
      lease.validUntil = sentAt + this.#o.leaseTtl;
    } catch (error) {
      // A wrong revision means the lease expired and may be someone else's now, unless the
      // newest write is this worker's (see #adopt); any other failure leaves it to the clock
      // (validUntil) and the next renewal.
      if (isWrongRevision(error) && !this.#adopt(await kv.get(`${LEASE_PREFIX}${name}`).catch(() => null), lease)) {
        this.#lose(name, "expired before renewal");
      }
    }
  }

  /** This worker's entry and every lease it holds, renewed at once. */
  async #renewAll(): Promise<void> {
    const session = this.#link.session;
    if (this.#renewing || session === null) return;
    this.#renewing = true;
    try {
      const kv = session.kv;
      await Promise.all([
        kv.put(`${WORKER_PREFIX}${this.workerId}`, this.#value()).then(
          (rev) => void (this.#presence = rev),
          () => {},
        ),
        ...[...this.#leases].map(([name, lease]) => this.#renew(kv, name, lease)),
      ]);
    } finally {
      this.#renewing = false;
    }
  }

  /** A lease round: count the live workers, then take or give up feeds to match the share. */
  async #tick(): Promise<void> {
    const session = this.#link.session;
    if (this.#ticking || this.#stopping || session === null) return;
    this.#ticking = true;
    try {
      const kv = session.kv;
      // One request lists the live keys: expired ones are gone (the bucket's max age), and
      // released ones leave no marker (see #remove).
      const info = await session.jsm.streams.info(this.#kvStream, { subjects_filter: `${this.#kvPrefix}>` });
      const taken = new Set<string>();
      let workers = 0;
      for (const subject of Object.keys(info.state.subjects ?? {})) {
        const key = subject.slice(this.#kvPrefix.length);
        if (key.startsWith(WORKER_PREFIX)) workers++;
        else if (key.startsWith(LEASE_PREFIX)) taken.add(key.slice(LEASE_PREFIX.length));
      }
      this.#workers = Math.max(1, workers);
      const share = this.#share();
      if (this.#stopping) return;
      const active = [...this.#leases.keys()].filter((n) => !this.#leases.get(n)!.releasing);
      if (active.length > share) {
        active.sort((a, b) => rank(this.workerId, a) - rank(this.workerId, b));
        for (const name of active.slice(0, active.length - share)) void this.#release(name, "rebalancing");
      } else if (this.#leases.size < share) {
        const free = [...this.#feeds.keys()].filter((n) => !taken.has(n) && !this.#leases.has(n));
        free.sort((a, b) => rank(this.workerId, b) - rank(this.workerId, a));
        for (const name of free) {
          if (this.#leases.size >= share || this.#stopping) break;
          await this.#acquire(kv, name);
        }
      }
      if (this.#o.trackOwners) await this.#lookUpOwners(kv, taken);
    } catch (error) {
      this.#log(`lease round: ${text(error)}`);
    } finally {
      this.#ticking = false;
    }
  }

  #share(): number {
    return Math.ceil(this.#feeds.size / this.#workers);
  }

  async #acquire(kv: KV, name: string): Promise<void> {
    const sentAt = Date.now();
    let rev: number;
    try {
      rev = await kv.create(`${LEASE_PREFIX}${name}`, this.#value());
    } catch (error) {
      if (!isWrongRevision(error)) this.#log(`lease ${name}: ${text(error)}`);
      return; // someone else was faster
    }
    const spec = this.#feeds.get(name)!;
    const lease: Lease = { rev, validUntil: sentAt + this.#o.leaseTtl, releasing: false, final: false, renewal: null, runner: undefined! };
    const margin = this.#o.leaseTtl / 10;
    lease.runner = new FeedRunner(name, spec.url, {
      nats: this.#nats,
      link: this.#link,
      stream: this.#o.stream,
      subject: `${this.#o.subject}.${name}`,
      session: `${this.workerId}.${randomBytes(6).toString("hex")}`,
      maxUnacked: this.#o.maxUnacked,
      publishTimeout: this.#o.publishTimeout,
      source: { ...this.#o.source, headers: { ...this.#o.headers, ...spec.headers } },
      leaseValid: (now) => now < lease.validUntil - margin,
      log: (line) => this.#log(line),
    });
    this.#leases.set(name, lease);
    this.#runners.set(name, lease.runner);
    this.#log(`lease ${name} taken`);
  }

  /** Stop reading, let the unacknowledged publishes land, then delete the lease (CAS). */
  async #release(name: string, why: string): Promise<void> {
    const lease = this.#leases.get(name);
    if (!lease || lease.releasing) return;
    lease.releasing = true;
    await lease.runner.drain(this.#o.drainTimeout);
    lease.final = true;
    await lease.renewal;
    if (this.#leases.get(name) !== lease) return; // lost meanwhile
    this.#leases.delete(name);
    await this.#remove(`${LEASE_PREFIX}${name}`, lease.rev);
    this.#log(`lease ${name} released (${why})`);
  }

  /**
   * Remove a key this worker wrote at revision `rev`, leaving no delete marker (a marker
   * would still be listed as a key until it aged out): purge the key's messages up to
   * `rev`. A newer revision, someone else's lease taken after ours expired, is untouched,
   * so this is a compare-and-set delete.
   */
  async #remove(key: string, rev: number): Promise<void> {
    const session = this.#link.session;
    if (session === null || rev === 0) return; // the TTL frees it anyway
    await session.jsm.streams.purge(this.#kvStream, { filter: `${this.#kvPrefix}${key}`, seq: rev + 1 }).catch(() => {});
  }

  async #lookUpOwners(kv: KV, taken: Set<string>): Promise<void> {
    this.#owners.clear();
    await Promise.all(
      [...taken].map(async (name) => {
        if (this.#leases.has(name)) return;
        const entry = await kv.get(`${LEASE_PREFIX}${name}`).catch(() => null);
        if (entry?.operation === "PUT") this.#owners.set(name, entry.json<{ worker: string }>().worker);
      }),
    );
  }

  /** Figures per feed; `eventsPerSecond` is over the time since the previous call. */
  stats(): IngestStats {
    const now = Date.now();
    const feeds: FeedStats[] = [];
    for (const [name, spec] of this.#feeds) {
      const lease = this.#leases.get(name);
      const runner = lease?.runner ?? this.#runners.get(name);
      const c: FeedCounters = runner?.snapshot() ?? zeroCounters();
      const prev = this.#rates.get(name);
      const rate = prev && now > prev.at ? ((c.published - prev.published) * 1000) / (now - prev.at) : 0;
      this.#rates.set(name, { at: now, published: c.published });
      feeds.push({
        ...c,
        feed: name,
        url: spec.url,
        owner: lease ? this.workerId : (this.#owners.get(name) ?? null),
        reading: lease !== undefined && !lease.releasing,
        eventsPerSecond: Math.max(0, rate),
        lagMs: c.lastEventAt === null ? null : now - c.lastEventAt,
      });
    }
    return {
      workerId: this.workerId,
      connected: this.#link.session !== null,
      workers: this.#workers,
      share: this.#share(),
      held: this.#leases.size,
      feeds,
    };
  }

  /**
   * Drain and hand over: stop reading every feed, wait for its publishes to be
   * acknowledged, delete its lease and this worker's entry, close the connection. Other
   * workers take the feeds at their next lease round (TTL/4), without waiting for the TTL.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#timers[1]); // no more lease rounds; renewals go on while draining
      while (this.#ticking) await new Promise((r) => setTimeout(r, 10));
      await Promise.all([...this.#leases.keys()].map((name) => this.#release(name, "stopping")));
      clearInterval(this.#timers[0]);
      while (this.#renewing) await new Promise((r) => setTimeout(r, 10));
      await this.#remove(`${WORKER_PREFIX}${this.workerId}`, this.#presence);
      await this.#link.stop();
    })();
    return this.#stopping;
  }
}

/** Start a worker: connect, then take and read its share of the feeds until `stop()`. */
export function ingest(options: IngestOptions): Promise<Ingest> {
  return Ingest.start(options);
}
