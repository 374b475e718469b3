// Several workers (the built CLI, as child processes) sharing feeds through leases: one
// killed with SIGKILL mid-stream, one stopped with SIGTERM. The stream is the judge. Each
// feed sends 3,000 events/s (8 feeds: more than a 2-core machine stores), cut at random
// byte offsets.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  countsBySubject,
  ensureDist,
  idsBySubject,
  killAll,
  leaseHolders,
  natsServerAvailable,
  range,
  readStream,
  startFeed,
  startNats,
  startWorker,
  until,
  waitForCounts,
  type FeedServer,
  type NatsServer,
  type Worker,
} from "./helpers.js";

const run = natsServerAvailable() ? describe : describe.skip;

run("ingest workers sharing feeds", () => {
  let nats: NatsServer;
  let feeds: FeedServer[] = [];
  let workers: Worker[] = [];

  beforeAll(async () => {
    ensureDist();
    nats = await startNats();
  }, 180_000);
  afterAll(async () => {
    await nats?.dispose();
  });
  afterEach(async () => {
    await killAll(workers);
    workers = [];
    await Promise.all(feeds.map((f) => f.close()));
    feeds = [];
  });

  const setup = async (stream: string, count: number, names: string[]) => {
    feeds = await Promise.all(names.map((f, i) => startFeed(f, { count, perTick: 30, dropWithin: 300_000, seed: i + 1 })));
    return [
      "--nats",
      nats.url,
      "--stream",
      stream,
      "--subject",
      stream.toLowerCase(),
      ...names.flatMap((name, i) => ["--feed", `${name}=${feeds[i]!.url}`]),
    ];
  };

  const countsPerWorker = (holders: Map<string, string>) => {
    const by = new Map<string, number>();
    for (const w of holders.values()) by.set(w, (by.get(w) ?? 0) + 1);
    return by;
  };

  const expectExactlyOnce = async (stream: string, names: string[], count: number) => {
    const subject = stream.toLowerCase();
    await waitForCounts(nats.url, stream, names.map((f) => `${subject}.${f}`), count, 60_000);
    const by = idsBySubject(await readStream(nats.url, stream));
    for (const f of names) expect(by.get(`${subject}.${f}`), f).toEqual(range(1, count));
  };

  test("three workers, one killed with SIGKILL mid-stream: its feeds are taken over, every event once, in order", async () => {
    const stream = "KILL";
    const names = ["f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"];
    const count = 20_000;
    const args = await setup(stream, count, names);
    const ttl = 2000;
    workers = ["w1", "w2", "w3"].map((id) => startWorker(id, [...args, "--lease-ttl", `${ttl}ms`]));
    const bucket = `${stream}_leases`;
    // Stable: every feed held, nobody over ceil(8/3) + 1.
    await until(
      async () => {
        const h = await leaseHolders(nats.url, bucket).catch(() => new Map());
        return h.size === names.length && countsPerWorker(h).size === 3;
      },
      15_000,
      "the three workers to share the feeds",
    );
    for (const n of countsPerWorker(await leaseHolders(nats.url, bucket)).values()) {
      expect(n).toBeLessThanOrEqual(Math.ceil(8 / 3) + 1);
    }
    const victim = workers[0]!;
    const before = await leaseHolders(nats.url, bucket);
    const orphans = names.filter((f) => before.get(f) === victim.id);
    expect(orphans.length).toBeGreaterThan(0);
    const stored = (f: string) => async () =>
      (await countsBySubject(nats.url, stream)).get(`${stream.toLowerCase()}.${f}`) ?? 0;
    victim.child.kill("SIGKILL");
    const killedAt = Date.now();
    await victim.exited;
    // What the victim had in flight has landed by now; after this only a new owner adds.
    await new Promise((r) => setTimeout(r, 200));
    const atKill = await Promise.all(orphans.map((f) => stored(f)()));
    await until(
      async () => {
        const now = await Promise.all(orphans.map((f) => stored(f)()));
        return now.every((n, i) => n > atKill[i]!);
      },
      10_000,
      "the orphaned feeds to move again",
    );
    // Taken over within the TTL, plus a lease round (TTL/4) and one reconnection to the feed.
    expect(Date.now() - killedAt).toBeLessThan(ttl + ttl / 4 + 2000);
    const after = await leaseHolders(nats.url, bucket);
    for (const f of orphans) expect(["w2", "w3"]).toContain(after.get(f));
    for (const n of countsPerWorker(after).values()) expect(n).toBeLessThanOrEqual(Math.ceil(8 / 2) + 1);
    await expectExactlyOnce(stream, names, count);
  }, 120_000);

  test("SIGTERM drains and releases at once: the other worker takes over without waiting for the TTL", async () => {
    const stream = "TERM";
    const names = ["a", "b", "c", "d"];
    const count = 20_000;
    const args = await setup(stream, count, names);
    const ttl = 10_000;
    workers = ["t1", "t2"].map((id) =>
      startWorker(id, [...args, "--lease-ttl", `${ttl}ms`, ...(id === "t2" ? ["--stats", "--stats-interval", "300ms"] : [])]),
    );
    const bucket = `${stream}_leases`;
    await until(
      async () => {
        const h = await leaseHolders(nats.url, bucket).catch(() => new Map());
        return h.size === names.length && countsPerWorker(h).size === 2;
      },
      20_000,
      "the two workers to share the feeds",
    );
    const leaving = workers[0]!;
    leaving.child.kill("SIGTERM");
    expect(await leaving.exited).toBe(0);
    expect(leaving.stderr()).toMatch(/released \(stopping\)/);
    const took = await until(
      async () => [...(await leaseHolders(nats.url, bucket)).values()].filter((w) => w === "t2").length === 4,
      ttl,
      "t2 to hold every feed",
    );
    // A lease round (TTL/4), not the TTL.
    expect(took).toBeLessThan(ttl / 2);
    await expectExactlyOnce(stream, names, count);
    // --stats: per feed, events/s, lag since the last event, owner.
    expect(workers[1]!.stderr()).toMatch(/worker t2: 4 of 4 feeds \(share 4, 1 worker\)/);
    for (const f of names) expect(workers[1]!.stderr()).toMatch(new RegExp(`\\n  ${f}  \\d+ ev/s  lag [\\d.]+s  owner t2  stored \\d+`));
  }, 120_000);
});
