// The requests a source makes, as Fetch makes them: cache headers, URL credentials (sent only
// in answer to a 401), and an id a header cannot carry. Real servers on 127.0.0.1.
import { afterEach, describe, expect, test } from "vitest";
import type { FetchLike } from "../../src/client/transport/types.js";
import { lastEventIdOf, once, sse, startServer, until } from "../support/server.js";
import { closeSources, errors, open, record } from "../support/sources.js";

afterEach(closeSources);

/** A fetch that answers every call with `body` and the given status and type. */
function fakeFetch(body: () => unknown, status = 200, type = "text/event-stream"): FetchLike & { inits: unknown[] } {
  const inits: unknown[] = [];
  const f = (async (_url: string, init: unknown) => {
    inits.push(init);
    return { status, statusText: "", headers: new Headers({ "content-type": type }), body: body() };
  }) as unknown as FetchLike & { inits: unknown[] };
  f.inits = inits;
  return f;
}

describe("caching and credentials, as Fetch does them", () => {
  test('the fetch option is called with cache: "no-store"; requests carry Pragma and Cache-Control: no-cache', async () => {
    const f = fakeFetch(() => new ReadableStream({ start: (c) => c.close() }));
    const s = open("http://127.0.0.1:9/", { fetch: f });
    await until(() => f.inits.length === 1);
    s.close();
    expect(f.inits[0]).toMatchObject({ cache: "no-store", redirect: "manual", headers: { pragma: "no-cache", "cache-control": "no-cache" } });

    const server = await startServer((_req, res) => sse(res));
    const n = open(server.url);
    await once(n, "open");
    expect(server.requests[0]!.headers.pragma).toBe("no-cache");
    expect(server.requests[0]!.headers["cache-control"]).toBe("no-cache");
  });

  test.each(["node", "fetch"])("URL credentials are sent only in answer to a 401, then kept for that origin (%s)", async (kind) => {
    const server = await startServer((req, res, { n }) => {
      if (!req.headers.authorization) return void res.writeHead(401, { "www-authenticate": 'Basic realm="x"' }).end();
      sse(res);
      res.end(`retry: 10\ndata: ${n}\n\n`);
    });
    const url = server.url.replace("http://", "http://us%C3%A9r:p%3Ass@");
    const s = open(url, kind === "fetch" ? { fetch: globalThis.fetch as unknown as FetchLike } : {});
    const got = record(s);
    await until(() => got.length === 2, 3000, "two connections");
    s.close();
    const auth = server.requests.map((r) => r.headers.authorization);
    const basic = `Basic ${Buffer.from("usér:p:ss", "utf8").toString("base64")}`;
    // The first request goes without; the 401 is answered; the reconnection sends them at once.
    expect(auth.slice(0, 3)).toEqual([undefined, basic, basic]);
    expect(server.requests.every((r) => r.url === "/")).toBe(true);
  });

  test("URL credentials are never sent to a server that does not ask; a 401 with them still failing is HTTP_STATUS", async () => {
    const server = await startServer((req, res) => res.writeHead(401).end());
    const s = open(server.url.replace("http://", "http://u:p@"));
    const errs = errors(s);
    await until(() => errs.length === 1);
    expect(errs[0]!.code).toBe("HTTP_STATUS");
    expect(errs[0]!.status).toBe(401);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined, `Basic ${btoa("u:p")}`]);

    const plain = await startServer((_req, res) => sse(res));
    const p = open(plain.url.replace("http://", "http://u:p@"));
    await once(p, "open");
    expect(plain.requests[0]!.headers.authorization).toBeUndefined();
  });
});

describe("an id that a header cannot carry", () => {
  test.each([
    ["the lastEventId option, \\x01", { lastEventId: "a\x01b" }, ""],
    ["the lastEventId option, DEL", { lastEventId: "a\x7fb" }, ""],
    ["the lastEventId option, CR/LF", { lastEventId: "a\r\nb" }, ""],
    ["an id: from the stream", {}, "id: 4\x01\n"],
  ])("%s: a LAST_EVENT_ID_NOT_SENT error event (willReconnect), and the stream goes on", async (_name, init, first) => {
    const server = await startServer((_req, res, { n }) => {
      sse(res);
      res.end(n === 1 ? `retry: 10\n${first}data: x\n\n` : "data: y\n\n");
    });
    const s = open(server.url, init);
    const errs = errors(s);
    const got = record(s);
    await until(() => got.length >= 2, 3000, "two connections");
    s.close();
    const warnings = errs.filter((e) => e.code === "LAST_EVENT_ID_NOT_SENT");
    const expected = "lastEventId" in init ? 2 : 1; // every request that could not carry it
    expect(warnings.length).toBeGreaterThanOrEqual(expected);
    expect(warnings[0]!.willReconnect).toBe(true);
    expect(warnings[0]!.message).toMatch(/cannot carry/);
    expect(server.requests.every((r) => lastEventIdOf(r) === undefined)).toBe(true);
  });

  test("a sendable id raises no such event", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("retry: 10\nid: é 5\ndata: x\n\n");
    });
    const s = open(server.url, { lastEventId: "ok" });
    const errs = errors(s);
    await until(() => server.requests.length >= 2);
    s.close();
    expect(errs.map((e) => e.code)).not.toContain("LAST_EVENT_ID_NOT_SENT");
    expect(lastEventIdOf(server.requests[1]!)).toBe("é 5");
  });
});
