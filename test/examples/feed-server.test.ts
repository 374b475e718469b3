// The demo feed (examples/feed-server.mjs): deterministic ticks, Last-Event-ID resume,
// mid-event drops, 204 at the end. Read with plain node:http so these tests do not depend
// on the client under test.
import { request } from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import { startFeedServer, tickEvent, type FeedServer } from "../../examples/feed-server.mjs";

interface Fetched {
  status: number;
  contentType: string | undefined;
  body: string;
  /** The response ended early (connection cut before the end of the chunked body). */
  aborted: boolean;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
      let body = "";
      let aborted = false;
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("aborted", () => (aborted = true));
      res.on("error", () => (aborted = true));
      res.on("close", () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], body, aborted: aborted || !res.complete }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** The ids of the complete events in an event stream body (an unfinished one is not). */
function completeIds(body: string): number[] {
  const blocks = body.split("\n\n");
  blocks.pop(); // the part after the last blank line is unfinished
  return blocks.flatMap((b) => {
    const m = /^id: (\d+)$/m.exec(b);
    return m && /^data: /m.test(b) ? [Number(m[1])] : [];
  });
}

let feed: FeedServer | undefined;
afterEach(async () => {
  await feed?.close();
  feed = undefined;
});

describe("startFeedServer", () => {
  test("ticks are deterministic, about 120 bytes, and well-formed", () => {
    expect(tickEvent(7, 42)).toBe(tickEvent(7, 42));
    expect(tickEvent(7, 42)).not.toBe(tickEvent(7, 43));
    const ev: string = tickEvent(12345, 1);
    expect(ev).toMatch(/^id: 12345\nevent: tick\ndata: \{.*\}\n\n$/);
    expect(Object.keys(JSON.parse(ev.split("\n")[2]!.slice(6)))).toEqual(["s", "p", "q", "b", "a", "x", "t"]);
    expect(ev.length).toBeGreaterThan(100);
    expect(ev.length).toBeLessThan(140);
  });

  test("streams `events` ticks with retry and a comment, then ends; 204 past the end", async () => {
    feed = (await startFeedServer({ events: 5, retryMs: 250, seed: 3 }));
    expect(feed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await get(feed.url);
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/event-stream/);
    expect(r.body.startsWith("retry: 250\n:")).toBe(true);
    expect(completeIds(r.body)).toEqual([1, 2, 3, 4, 5]);
    expect(r.body.endsWith(tickEvent(5, 3))).toBe(true);
    expect(r.aborted).toBe(false);
    expect((await get(feed.url, { "last-event-id": "5" })).status).toBe(204);
  });

  test("honours Last-Event-ID: resumes right after that seq, with the same bytes", async () => {
    feed = (await startFeedServer({ events: 10, seed: 9 }));
    const all = await get(feed.url);
    const resumed = await get(feed.url, { "last-event-id": "6" });
    expect(completeIds(resumed.body)).toEqual([7, 8, 9, 10]);
    expect(all.body.endsWith(resumed.body.slice(resumed.body.indexOf("id: 7")))).toBe(true);
    expect(feed.stats.lastEventIds).toEqual([null, "6"]);
  });

  test("dropEvery cuts the connection mid-event; resuming from the last complete id loses nothing", async () => {
    feed = (await startFeedServer({ events: 25, dropEvery: 10 }));
    const got: number[] = [];
    let lastId = "";
    for (let i = 0; i < 10; i++) {
      const r = await get(feed.url, lastId ? { "last-event-id": lastId } : {});
      if (r.status === 204) break;
      const ids = completeIds(r.body);
      got.push(...ids);
      if (ids.length > 0) lastId = String(ids[ids.length - 1]);
      if (ids.length === 10) {
        // A drop: the connection was cut, and after the last complete event there is half
        // of the next one.
        expect(r.aborted).toBe(true);
        expect(r.body.slice(r.body.lastIndexOf("\n\n") + 2)).toMatch(/^id: \d+\n/);
      }
    }
    expect(got).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(feed.stats.drops).toBe(2);
    expect(feed.stats.lastEventIds).toEqual([null, "10", "20", "25"]);
  });

  test("a paced feed keeps going when the socket buffer fills (waits for drain)", async () => {
    feed = await startFeedServer({ events: 3000, rate: 30000 });
    const r = await get(feed.url);
    expect(completeIds(r.body)).toHaveLength(3000);
  });

  test("query parameters override the defaults per connection; paced rate", async () => {
    feed = (await startFeedServer({ heartbeatMs: 50 }));
    const t0 = performance.now();
    const r = await get(`${feed.url}?events=4&rate=40`);
    const ms = performance.now() - t0;
    expect(completeIds(r.body)).toEqual([1, 2, 3, 4]);
    // 4 events at 40/s take ~100 ms; heartbeats came in meanwhile.
    expect(ms).toBeGreaterThan(60);
    expect(r.body).toContain(": ping\n\n");
  });
});
