/**
 * Content codings on the Node transport (src/client/transport/node.ts), against real node:http
 * servers on 127.0.0.1 that compress with node:zlib: what is asked for, what is decoded, when
 * decoded events arrive, and what a body that cannot be decoded does.
 */
import type { ServerResponse } from "node:http";
import * as zlib from "node:zlib";
import { afterEach, describe, expect, test } from "vitest";
import { EventSource } from "../../../src/index.js";
import { permanentFailure } from "../../../src/client/failures.js";
import { ACCEPT_ENCODING, contentCodings, nodeTransport } from "../../../src/client/transport/node.js";
import { ContentEncodingError } from "../../../src/client/transport/types.js";
import { lastEventIdOf, once, sse, startServer, until } from "../../support/server.js";
import { closeSources, errors, open, record } from "../../support/sources.js";

afterEach(closeSources);

const hasZstd = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === "function";

/** A compressing stream piped into `res`, flushed after every write (as a streaming server does). */
function compressor(coding: string): zlib.Gzip | zlib.Deflate | zlib.DeflateRaw | zlib.BrotliCompress {
  switch (coding) {
    case "gzip":
      return zlib.createGzip();
    case "deflate":
      return zlib.createDeflate();
    case "deflate-raw":
      return zlib.createDeflateRaw();
    case "br":
      return zlib.createBrotliCompress();
    case "zstd":
      return (zlib as unknown as { createZstdCompress(): zlib.Gzip }).createZstdCompress();
    default:
      throw new Error(coding);
  }
}

/** Starts an event stream compressed with `coding` (sent as `header`); returns a writer that flushes. */
function compressedStream(res: ServerResponse, coding: string, header = coding === "deflate-raw" ? "deflate" : coding) {
  sse(res, { "content-encoding": header });
  const z = compressor(coding);
  z.pipe(res);
  return {
    write(text: string): Promise<void> {
      return new Promise((resolve) => {
        z.write(text);
        z.flush(resolve);
      });
    },
    end: () => z.end(),
    zstream: z,
  };
}

function events(n: number, from = 1): string {
  let s = "";
  for (let i = from; i < from + n; i++) s += `id: ${i}\ndata: event ${i} ${"x".repeat(40)}\n\n`;
  return s;
}

describe("Accept-Encoding", () => {
  test("the default asks for every coding the runtime decodes", async () => {
    const server = await startServer((_req, res) => sse(res));
    const source = open(server.url);
    await once(source, "open");
    expect(server.requests[0]!.headers["accept-encoding"]).toBe(ACCEPT_ENCODING);
    expect(ACCEPT_ENCODING).toBe(hasZstd ? "gzip, deflate, br, zstd" : "gzip, deflate, br");
  });

  test("compression: false sends none, and a user's own header is sent as it is", async () => {
    const server = await startServer((_req, res) => sse(res));
    const off = open(server.url, { compression: false });
    await once(off, "open");
    const own = open(server.url, { headers: { "Accept-Encoding": "gzip;q=1, identity;q=0.5" } });
    await once(own, "open");
    expect(server.requests[0]!.headers).not.toHaveProperty("accept-encoding");
    expect(server.requests[1]!.headers["accept-encoding"]).toBe("gzip;q=1, identity;q=0.5");
  });

  test("compression must be a boolean, and is refused with a fetch", () => {
    expect(() => new EventSource("http://127.0.0.1:1/", { compression: "no" as never })).toThrow(TypeError);
    expect(() => new EventSource("http://127.0.0.1:1/", { compression: false, fetch: globalThis.fetch as never })).toThrow(
      /compression/,
    );
  });
});

describe("decoding", () => {
  const codings = ["gzip", "deflate", "deflate-raw", "br", ...(hasZstd ? ["zstd"] : [])];
  test.each(codings)("%s: every event, byte for byte, both engines", async (coding) => {
    const text = events(300) + "data: é中😀\n\n";
    const server = await startServer((_req, res) => {
      const s = compressedStream(res, coding);
      void s.write(text).then(() => s.end());
    });
    for (const engine of ["wasm", "js"] as const) {
      const source = open(server.url, { engine });
      const got = record(source);
      await until(() => got.length === 301, 5000, `${coding} events`);
      source.close();
      expect(got[0]).toBe(`event 1 ${"x".repeat(40)}`);
      expect(got[299]).toBe(`event 300 ${"x".repeat(40)}`);
      expect(got[300]).toBe("é中😀");
      // stats.bytes counts what the parser was fed: the decoded bytes.
      expect(source.stats.bytes).toBe(Buffer.byteLength(text));
    }
  });

  test.each(["gzip", "br"])("%s: a flushed event arrives while the response is held open", async (coding) => {
    let stream: ReturnType<typeof compressedStream> | null = null;
    const server = await startServer((_req, res) => {
      stream = compressedStream(res, coding);
      void stream.write("data: first\n\n");
    });
    const source = open(server.url);
    const got = record(source);
    await until(() => got.length === 1, 3000, "the first event, before the response ends");
    await stream!.write("data: second\n\n");
    await until(() => got.length === 2, 3000, "the second event");
    expect(got).toEqual(["first", "second"]);
    expect(source.readyState).toBe(EventSource.OPEN);
  });

  test("a user's `accept-encoding: gzip` (issue 20: 0 events before) gets a gzip stream, decoded", async () => {
    const server = await startServer((req, res) => {
      if (!String(req.headers["accept-encoding"]).includes("gzip")) return void res.writeHead(406).end();
      const s = compressedStream(res, "gzip");
      void s.write(events(3));
    });
    const source = open(server.url, { headers: { "accept-encoding": "gzip" }, compression: false });
    const got = record(source);
    await until(() => got.length === 3);
    expect(server.requests[0]!.headers["accept-encoding"]).toBe("gzip");
    expect(got[0]).toBe(`event 1 ${"x".repeat(40)}`);
  });

  test("a coding the client did not ask for is decoded (as fetch does)", async () => {
    const server = await startServer((_req, res) => {
      const s = compressedStream(res, "br");
      void s.write(events(3));
    });
    const source = open(server.url, { compression: false });
    const got = record(source);
    await until(() => got.length === 3);
    expect(server.requests[0]!.headers).not.toHaveProperty("accept-encoding");
    expect(got[2]).toBe(`event 3 ${"x".repeat(40)}`);
  });

  test("two codings, decoded last applied first; x-gzip and identity", async () => {
    const body = zlib.gzipSync(zlib.deflateSync(events(2)));
    const server = await startServer((req, res) => {
      if (req.url === "/two") {
        sse(res, { "content-encoding": "deflate, gzip" });
        res.end(body);
      } else {
        sse(res, { "content-encoding": "identity, x-gzip" });
        res.end(zlib.gzipSync("data: aliased\n\n"));
      }
    });
    const two = open(`${server.origin}/two`, { reconnect: { maxAttempts: 0 } });
    const got = record(two);
    const alias = open(`${server.origin}/alias`, { reconnect: { maxAttempts: 0 } });
    const aliased = record(alias);
    await until(() => got.length === 2 && aliased.length === 1);
    expect(got[1]).toBe(`event 2 ${"x".repeat(40)}`);
    expect(aliased).toEqual(["aliased"]);
  });

  test("a gzip bomb is one big event: discarded at maxEventSize, the stream goes on", async () => {
    const big = 64 << 20; // 64 MiB of one data line, about 64 KiB compressed
    const server = await startServer((_req, res) => {
      const s = compressedStream(res, "gzip");
      const line = Buffer.alloc(1 << 20, 0x61);
      s.zstream.write("data: ");
      for (let i = 0; i < big >> 20; i++) s.zstream.write(line);
      void s.write("\n\ndata: after\n\n");
    });
    const source = open(server.url, { maxEventSize: 1 << 20 });
    const errs = errors(source);
    const got = record(source);
    await until(() => got.length === 1, 15_000, "the event after the bomb");
    expect(got).toEqual(["after"]);
    expect(errs.map((e) => e.code)).toEqual(["EVENT_TOO_LARGE"]);
    expect(source.stats.bytes).toBeGreaterThan(big);
  });

  test("a drop, then a resume with Last-Event-ID and the server's retry:, all through gzip", async () => {
    const server = await startServer((req, res, { n }) => {
      const s = compressedStream(res, "gzip");
      if (n === 1) {
        void s.write("retry: 20\n" + events(3)).then(() => res.destroy());
      } else {
        void s.write(events(2, Number(lastEventIdOf(req)) + 1));
      }
    });
    // The initial delay is long: only the retry: read from the compressed stream makes it quick.
    const source = open(server.url, { reconnect: { initialDelay: 60_000 } });
    const got = record(source);
    await until(() => got.length === 5, 5000, "five events over two connections");
    expect(lastEventIdOf(server.requests[1]!)).toBe("3");
    expect(got.map((d) => d.split(" ")[1])).toEqual(["1", "2", "3", "4", "5"]);
  });

  test.each(["gzip", "br"])("%s: a stream cut short by the server ends like any stream (reconnected)", async (coding) => {
    const server = await startServer((_req, res) => {
      const s = compressedStream(res, coding);
      // Flushed, never finished: the end of the compressed stream is missing.
      void s.write(events(2)).then(() => {
        s.zstream.unpipe(res);
        res.end();
      });
    });
    const source = open(server.url);
    const got = record(source);
    const errs = errors(source);
    await until(() => errs.length >= 1);
    expect(errs[0]!.code).toBe("STREAM_ENDED");
    expect(errs[0]!.willReconnect).toBe(true);
    expect(got.slice(0, 2).map((d) => d.split(" ")[1])).toEqual(["1", "2"]);
  });

  test("a stalled consumer stops the decoder: what a small compressed body inflates to waits undecoded", async () => {
    const total = 20_000; // 1 KiB events: 20 MiB decoded, a few KiB compressed
    const server = await startServer((_req, res) => {
      const s = compressedStream(res, "gzip");
      let text = "";
      for (let i = 1; i <= total; i++) text += `id: ${i}\ndata: ${"x".repeat(1024)}\n\n`;
      void s.write(text);
    });
    const source = open(server.url, { reconnect: { maxAttempts: 0 } });
    const iterator = source.events({ bufferSize: 10 });
    await iterator.next();
    await new Promise((r) => setTimeout(r, 300)); // the whole body has arrived by now
    // Decoded so far: about the iterator's bound plus a decoder chunk or two, not 20 MiB.
    expect(source.stats.bytes).toBeLessThan(1 << 20);
    let n = 1;
    for (;;) {
      const { value } = await iterator.next();
      n++;
      if (Number(value!.lastEventId) === total) break;
    }
    expect(n).toBe(total);
  });

  test("the block overflow policy pauses a compressed stream; nothing is lost", async () => {
    const total = 5000;
    const server = await startServer((_req, res) => {
      const s = compressedStream(res, "gzip");
      void s.write(events(total)).then(() => s.end());
    });
    const source = open(server.url, { reconnect: { maxAttempts: 0 } });
    let last = 0;
    let inOrder = true;
    for await (const event of source.events({ bufferSize: 10 })) {
      const i = Number(event.lastEventId);
      if (i !== last + 1) inOrder = false;
      last = i;
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 1));
      if (i === total) break;
    }
    expect(inOrder).toBe(true);
    expect(last).toBe(total);
  });
});

describe("a body that cannot be decoded", () => {
  test("an unknown coding fails the connection: CONTENT_ENCODING, no reconnection", async () => {
    const server = await startServer((_req, res) => {
      sse(res, { "content-encoding": "compress" });
      res.end("data: never\n\n");
    });
    const source = open(server.url);
    const got = record(source);
    const error = await once<import("../../../src/index.js").EventSourceErrorEvent>(source, "error");
    expect(error.code).toBe("CONTENT_ENCODING");
    expect(error.message).toMatch(/compress/);
    expect(error.willReconnect).toBe(false);
    expect(source.readyState).toBe(EventSource.CLOSED);
    expect(got).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  test.each([
    ["gzip", Buffer.from("this is not gzip at all, not even its magic number")],
    ["gzip", Buffer.concat([zlib.gzipSync(events(1)).subarray(0, 10), Buffer.alloc(64, 0xff)])],
    ["br", Buffer.alloc(64, 0xff)],
    ["deflate", Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff, 0xff])],
  ])("corrupt %s: the transport reports a ContentEncodingError", async (coding, bytes) => {
    const server = await startServer((_req, res) => {
      sse(res, { "content-encoding": coding });
      res.write(bytes);
    });
    const response = await nodeTransport({
      url: new URL(server.url),
      method: "GET",
      headers: {},
      body: null,
      signal: new AbortController().signal,
    });
    const error = await new Promise<unknown>((resolve) =>
      response.read({ onData: () => {}, onEnd: () => resolve("ended"), onError: resolve }),
    );
    response.cancel();
    expect(error).toBeInstanceOf(ContentEncodingError);
    expect(permanentFailure(error)).toBe("CONTENT_ENCODING");
    expect((error as Error).message).toContain(`the ${coding} body cannot be decoded`);
  });

  test("a corrupt stream's error event names the decoding failure", async () => {
    const server = await startServer((_req, res) => {
      sse(res, { "content-encoding": "gzip" });
      res.write(Buffer.from("garbage garbage garbage"));
    });
    // No maxAttempts: the failure itself must stop the reconnections.
    const source = open(server.url);
    const error = await once<import("../../../src/index.js").EventSourceErrorEvent>(source, "error");
    expect(error.code).toBe("CONTENT_ENCODING");
    expect(error.willReconnect).toBe(false);
    expect(source.readyState).toBe(2);
    expect(permanentFailure(error.cause)).toBe("CONTENT_ENCODING");
    expect(error.message).toMatch(/gzip body cannot be decoded/);
    expect(server.requests).toHaveLength(1);
  });
});

describe("contentCodings", () => {
  test.each([
    [null, null],
    ["", null],
    ["identity", null],
    ["gzip", ["gzip"]],
    ["X-GZIP", ["gzip"]],
    [" deflate , br ", ["deflate", "br"]],
    ["gzip, gzip, gzip, gzip", ["gzip", "gzip", "gzip", "gzip"]],
  ])("%j → %j", (value, expected) => {
    expect(contentCodings(value)).toEqual(expected);
  });

  test.each(["compress", "gzip, foo", "gzip,gzip,gzip,gzip,gzip", ...(hasZstd ? [] : ["zstd"])])("%j cannot be decoded", (value) => {
    expect(typeof contentCodings(value)).toBe("string");
  });
});
