// The fetch transport in a page or worker (`browser: true`), and its fallback where a
// platform refuses the `cache` field. Node's own fetch (undici) stands in for a browser's:
// it follows redirects and reports the final URL as a browser's does. The cross-origin
// behaviour itself (CORS, preflights, cookies) is the browser suite's: npm run test:browsers.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { fetchTransport } from "../../../src/client/transport/fetch.js";
import { inBrowser } from "../../../src/client/transport/platform.js";
import type { FetchLike, FetchLikeInit, TransportRequest } from "../../../src/client/transport/types.js";
import { sse, startServer, until } from "../../support/server.js";
import { closeSources, open, record } from "../../support/sources.js";

afterEach(closeSources);

function request(over: Partial<TransportRequest> = {}): TransportRequest {
  return {
    url: new URL("http://127.0.0.1:9/feed"),
    method: "GET",
    headers: { accept: "text/event-stream" },
    body: null,
    signal: new AbortController().signal,
    ...over,
  };
}

/** A fetch that records its inits and answers an empty event stream, or throws `refuse(init)`. */
function recordingFetch(refuse: (init: FetchLikeInit) => Error | null = () => null, url?: string) {
  const inits: FetchLikeInit[] = [];
  const f: FetchLike = async (_input, init) => {
    inits.push({ ...init });
    const error = refuse(init);
    if (error !== null) throw error;
    return {
      status: 200,
      statusText: "OK",
      headers: new Headers({ "content-type": "text/event-stream" }),
      body: null,
      ...(url === undefined ? {} : { url, redirected: true }),
    };
  };
  return { f, inits };
}

describe("the request a native EventSource makes", () => {
  test.each([
    [false, "same-origin"],
    [true, "include"],
  ] as const)("withCredentials %s: credentials %s, mode cors, redirect follow, cache no-store", async (withCredentials, credentials) => {
    const { f, inits } = recordingFetch();
    await fetchTransport(f, { browser: true })(request({ withCredentials }));
    expect(inits[0]).toMatchObject({ redirect: "follow", cache: "no-store", credentials, mode: "cors" });
  });

  test("off the browser: redirect manual, and neither credentials nor mode", async () => {
    const { f, inits } = recordingFetch();
    await fetchTransport(f)(request({ withCredentials: true }));
    expect(inits[0]!.redirect).toBe("manual");
    expect(inits[0]).not.toHaveProperty("credentials");
    expect(inits[0]).not.toHaveProperty("mode");
  });

  test("the final URL is reported only when fetch followed a redirect", async () => {
    const moved = recordingFetch(() => null, "http://127.0.0.1:10/elsewhere");
    expect((await fetchTransport(moved.f, { browser: true })(request())).url).toBe("http://127.0.0.1:10/elsewhere");
    const stayed = recordingFetch();
    expect((await fetchTransport(stayed.f, { browser: true })(request())).url).toBeUndefined();
  });
});

describe("a fetch that refuses the cache field", () => {
  const workerd = () => new TypeError("The 'cache' field on 'RequestInitializerDict' is not implemented.");

  test("is asked again without it, and never with it again", async () => {
    const { f, inits } = recordingFetch((init) => ("cache" in init ? workerd() : null));
    const transport = fetchTransport(f);
    expect((await transport(request())).status).toBe(200);
    expect((await transport(request())).status).toBe(200);
    expect(inits.map((i) => "cache" in i)).toEqual([true, false, false]);
  });

  test("another error is not retried", async () => {
    const { f, inits } = recordingFetch(() => new TypeError("fetch failed"));
    await expect(fetchTransport(f)(request())).rejects.toThrow("fetch failed");
    expect(inits).toHaveLength(1);
  });
});

describe("EventSource in a page (a global importScripts), over a fetch that follows redirects", () => {
  const g = globalThis as { importScripts?: unknown };
  beforeAll(() => {
    g.importScripts = () => {};
  });
  afterAll(() => {
    delete g.importScripts;
  });

  test("no cache headers; origin and reconnections from the final URL", async () => {
    expect(inBrowser()).toBe(true);
    const feed = await startServer((_req, res, { n }) => {
      sse(res);
      res.end(`retry: 10\ndata: ${n}\n\n`);
    });
    const start = await startServer((_req, res) => void res.writeHead(307, { location: `${feed.url}feed` }).end());
    // Asked of fetch, not seen on the wire: undici adds both itself for cache "no-store",
    // as the Fetch standard says (a browser does so past its CORS checks).
    const sent: Record<string, string>[] = [];
    const f: FetchLike = (input, init) => {
      sent.push(init.headers);
      return (globalThis.fetch as unknown as FetchLike)(input, init);
    };
    const s = open(`${start.url}start`, { fetch: f });
    const origins: string[] = [];
    s.addEventListener("message", (e) => origins.push(e.origin));
    const got = record(s);
    await until(() => got.length === 2, 3000, "two connections");
    s.close();
    expect(start.requests).toHaveLength(1);
    expect(feed.requests.map((r) => r.url)).toEqual(["/feed", "/feed"]);
    expect(origins).toEqual([feed.origin, feed.origin]);
    expect(sent.slice(0, 2)).toEqual([{ accept: "text/event-stream" }, { accept: "text/event-stream" }]);
  });
});
