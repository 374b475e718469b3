// One worker (the library API, in this process) against real faults: feed servers that cut
// connections at random byte offsets, a NATS server restarted mid-stream, a NATS server
// that stops answering. The judge is the stream itself: every id once, in order, per feed.
// The feeds send as fast as the worker reads (bounded by the socket), so the faults land
// at the ingest's full rate; the restart test stores 100,000 events per feed.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { ingest, type Ingest } from "../../src/nats/index.js";
import {
  eventData,
  idsBySubject,
  natsServerAvailable,
  range,
  readStream,
  sleep,
  startFeed,
  startNats,
  until,
  waitForCounts,
  rewriteLease,
  type FeedServer,
  type NatsServer,
} from "./helpers.js";

const run = natsServerAvailable() ? describe : describe.skip;

run("ingest into JetStream, one worker", () => {
  let nats: NatsServer;
  let feeds: FeedServer[] = [];
  let worker: Ingest | null = null;
  let n = 0;

  beforeAll(async () => {
    nats = await startNats();
  }, 20_000);
  afterAll(async () => {
    await nats?.dispose();
  });
  afterEach(async () => {
    await worker?.stop();
    worker = null;
    await Promise.all(feeds.map((f) => f.close()));
    feeds = [];
    nats.resume();
    await nats.start().catch(() => {}); // a test that stopped it
  });

  const stored = async (stream: string, subject: string, count: number, names: string[]) => {
    await waitForCounts(nats.url, stream, names.map((f) => `${subject}.${f}`), count, 60_000);
    return readStream(nats.url, stream);
  };

  // The worker's log lines, for a failure message, and whether it took a feed's lease again.
  const logged = () => {
    const lines: string[] = [];
    return { lines, onLog: (line: string) => void lines.push(line), retaken: (f: string) => lines.filter((l) => l === `lease ${f} taken`).length > 1 };
  };
  // The re-sync these tests are about: publishes cut off in flight are checked against the log
  // and the rest republished. Or, rarely on a loaded machine, the lease lost over the outage
  // and taken again: a fresh runner then replays and republishes (its own counters start at 0,
  // so no re-sync shows). Either way every event is stored once, which the tests check too.
  const expectRepublished = (w: Ingest, log: ReturnType<typeof logged>, names: string[]) => {
    const resyncs = w.stats().feeds.reduce((n, f) => n + f.resyncs, 0);
    expect(resyncs > 0 || names.some(log.retaken), `no re-sync and no lease taken again:\n${log.lines.join("\n")}`).toBe(true);
  };

  // NATS killed once the worker is seen to lose it, and started again `downMs` later.
  const restartNats = async (w: Ingest, downMs: number) => {
    await nats.kill();
    await until(() => !w.stats().connected, 5000, "the worker to see the connection close");
    await sleep(downMs);
    await nats.start();
  };

  // A worker with the id "own", reading feed "a" of a stream named `prefix` and a number, its
  // lease renewed every 500 ms; resolves once it holds the lease.
  const ownWorker = async (prefix: string) => {
    const stream = `${prefix}${++n}`;
    feeds = [await startFeed("a", { count: 1_000_000, perTick: 5 })];
    const log = logged();
    worker = await ingest({
      servers: nats.url,
      stream,
      subject: stream.toLowerCase(),
      feeds: [{ name: "a", url: feeds[0]!.url }],
      workerId: "own",
      leaseTtl: 2000,
      onLog: log.onLog,
    });
    await until(() => log.lines.includes("lease a taken"), 10_000, "the lease");
    return { w: worker, log, bucket: `${stream}_leases` };
  };

  const expectExactlyOnce = (events: Awaited<ReturnType<typeof readStream>>, subject: string, names: string[], count: number) => {
    const by = idsBySubject(events);
    for (const f of names) expect(by.get(`${subject}.${f}`), f).toEqual(range(1, count));
    for (const e of events) {
      const feed = e.subject.slice(subject.length + 1);
      expect(e.data).toBe(eventData(feed, Number(e.id)));
      expect(e.type).toBe("message");
      expect(e.msgId).toBe(`${feed}:${e.id}`);
    }
  };

  test("feed servers cutting connections at random byte offsets: every event once, in order", async () => {
    const stream = `DROPS${++n}`;
    const names = ["a", "b", "c"];
    const count = 20_000;
    feeds = await Promise.all(names.map((f, i) => startFeed(f, { count, perTick: 500, dropWithin: 200_000, seed: 11 + i })));
    worker = await ingest({
      servers: nats.url,
      stream,
      subject: stream.toLowerCase(),
      feeds: names.map((name, i) => ({ name, url: feeds[i]!.url })),
      leaseTtl: 1000,
      source: { reconnect: { initialDelay: 20 } },
    });
    const events = await stored(stream, stream.toLowerCase(), count, names);
    expectExactlyOnce(events, stream.toLowerCase(), names, count);
    // The faults happened, and every resumption asked for the event after the last one seen.
    for (const f of feeds) {
      expect(f.drops).toBeGreaterThan(3);
      expect(f.lastEventIds.length).toBe(f.drops + 1);
    }
  }, 120_000);

  test("NATS server restarted mid-stream: the worker reconnects, republishes, nothing twice", async () => {
    const stream = `RESTART${++n}`;
    const names = ["a", "b"];
    const count = 100_000;
    feeds = await Promise.all(names.map((f) => startFeed(f, { count, perTick: 1000 })));
    const log = logged();
    worker = await ingest({
      servers: nats.url,
      stream,
      subject: stream.toLowerCase(),
      feeds: names.map((name, i) => ({ name, url: feeds[i]!.url })),
      // Longer than the outage below can last on a loaded machine, so that the lease seldom
      // expires while NATS is down (see expectRepublished).
      leaseTtl: 15_000,
      publishTimeout: 1000,
      onLog: log.onLog,
    });
    const w = worker;
    await until(() => w.stats().feeds.every((f) => f.published > 1000), 10_000, "publishing");
    // Paused, it acknowledges nothing more: once publishes wait for acks, killing it cuts
    // them off in flight, however slow the machine.
    nats.pause();
    await until(() => w.stats().feeds.some((f) => f.unacked > 0), 10_000, "publishes in flight");
    await restartNats(w, 500);
    const events = await stored(stream, stream.toLowerCase(), count, names);
    // Publishes were cut off in flight and the window was re-synced with the log.
    expectRepublished(w, log, names);
    expectExactlyOnce(events, stream.toLowerCase(), names, count);
  }, 120_000);

  test("a feed without ids, NATS restarted mid-stream: republishes collapse, every event once, in order", async () => {
    const stream = `NOIDS${++n}`;
    const subject = stream.toLowerCase();
    const count = 30_000;
    // 100 events per 10 ms: the feed lasts at least 3 s, so NATS goes down mid-stream even on
    // a loaded machine (at 500 per tick the worker once had every event acked before the
    // pause took effect, and there was nothing to re-sync).
    feeds = [await startFeed("a", { count, perTick: 100, ids: false })];
    const log = logged();
    worker = await ingest({
      servers: nats.url,
      stream,
      subject,
      feeds: [{ name: "a", url: feeds[0]!.url }],
      leaseTtl: 15_000, // see the test above
      publishTimeout: 1000,
      onLog: log.onLog,
    });
    const w = worker;
    await until(() => w.stats().feeds[0]!.published > 1000, 10_000, "publishing");
    nats.pause();
    await until(() => w.stats().feeds[0]!.unacked > 0, 10_000, "publishes in flight");
    await restartNats(w, 500);
    const events = await stored(stream, subject, count, ["a"]);
    expectRepublished(w, log, ["a"]);
    expect(events.map((e) => e.data)).toEqual(range(1, count).map((i) => eventData("a", i)));
    expect(events.every((e) => !e.id && /^a~/.test(e.msgId ?? ""))).toBe(true);
  }, 120_000);

  test("a lease whose newest revision is this worker's own write, one it never heard of, is kept: by a renewal, and after a reconnection", async () => {
    const { w, log, bucket } = await ownWorker("OWN");
    const taken = () => log.lines.filter((l) => l.startsWith("lease a"));
    // As a renewal that landed but whose answer the connection lost: the entry's newest
    // revision is this worker's write. Renewals then meet a revision they did not expect.
    await rewriteLease(nats.url, bucket, "a");
    await sleep(1200);
    // Again, and the connection drops at once: the reconnection finds it.
    await rewriteLease(nats.url, bucket, "a");
    await restartNats(w, 0);
    await until(() => w.stats().connected, 20_000, "the worker to reconnect");
    await sleep(1200);
    // Still held, and still renewed: past a TTL from here, it publishes on (a lease kept
    // without its revision would fail every renewal and stop publishing within the TTL).
    const published = w.stats().feeds[0]!.published;
    await sleep(3000);
    expect(taken(), log.lines.join("\n")).toEqual(["lease a taken"]);
    expect(w.stats().feeds[0]!.published).toBeGreaterThan(published);
  }, 60_000);

  test("a lease written by another worker with the same worker id is not taken for this one's own", async () => {
    const { log, bucket } = await ownWorker("TWIN");
    // What a worker without an instance of its own would write: the same as this one's then.
    await rewriteLease(nats.url, bucket, "a", JSON.stringify({ worker: "own" }));
    await until(() => log.lines.includes("lease a lost (expired before renewal)"), 5000, "the lease given up");
  }, 30_000);

  test("NATS answers after the publish time-out: the late acks count for nothing, the log decides, every event once", async () => {
    const stream = `LATE${++n}`;
    const count = 20_000;
    feeds = [await startFeed("a", { count, perTick: 500 })];
    worker = await ingest({
      servers: nats.url,
      stream,
      subject: stream.toLowerCase(),
      feeds: [{ name: "a", url: feeds[0]!.url }],
      leaseTtl: 15_000,
      publishTimeout: 300,
    });
    const w = worker;
    await until(() => w.stats().feeds[0]!.published > 1000, 10_000, "publishing");
    nats.pause();
    await until(() => w.stats().feeds[0]!.unacked > 0, 10_000, "publishes in flight");
    await sleep(1000); // past the time-out: the window is given up, a re-sync waits for NATS
    nats.resume();
    const events = await stored(stream, stream.toLowerCase(), count, ["a"]);
    expectExactlyOnce(events, stream.toLowerCase(), ["a"], count);
    const f = w.stats().feeds[0]!;
    expect(f.resyncs).toBeGreaterThan(0);
    // Stored once each, and counted once each: an ack of the abandoned window counted
    // again, or matched to a republished event, would make these disagree.
    await until(() => w.stats().feeds[0]!.unacked === 0, 10_000, "the window to empty");
    expect(w.stats().feeds[0]!.published).toBe(count);
  }, 120_000);

  test("NATS stops answering: the unacknowledged publishes stay bounded and the source pauses", async () => {
    const stream = `PAUSE${++n}`;
    const count = 5000;
    feeds = [await startFeed("a", { count, perTick: 200 })];
    worker = await ingest({
      servers: nats.url,
      stream,
      subject: stream.toLowerCase(),
      feeds: [{ name: "a", url: feeds[0]!.url }],
      leaseTtl: 10_000,
      maxUnacked: 50,
      publishTimeout: 3000,
    });
    const w = worker;
    await until(() => w.stats().feeds[0]!.published > 500, 10_000, "publishing");
    nats.pause();
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, w.stats().feeds[0]!.unacked)), 5);
    await until(() => w.stats().feeds[0]!.unacked === 50, 5000, "the window to fill");
    // The feed's socket is no longer read: its byte count stands still.
    await sleep(300);
    const before = w.stats().feeds[0]!.bytesReceived;
    await sleep(700);
    expect(w.stats().feeds[0]!.bytesReceived).toBe(before);
    clearInterval(watch);
    expect(most).toBe(50);
    nats.resume();
    const events = await stored(stream, stream.toLowerCase(), count, ["a"]);
    expectExactlyOnce(events, stream.toLowerCase(), ["a"], count);
  }, 120_000);
});
