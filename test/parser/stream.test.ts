// ParserStream: real ReadableStreams of bytes (or strings), cut at random, piped through it,
// must give what the oracle gives: the events on the readable side, retry/comment/error
// through the callbacks in stream order. Plus "terminate", bad chunks, bad options, and a
// response body from an HTTP server on 127.0.0.1.
import fc from "fast-check";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ParseError, ParserStream, type ParsedEvent } from "../../src/index.js";
import type { EngineName } from "../../src/parser/types.js";
import { cut, enc, runnableEngines } from "../support/collect.js";
import { oracleParse, type Output } from "../support/oracle.js";
import { cutPoints, maxEventSize, randomBytes, sseStream, utf8TextStream } from "../support/arbitraries.js";

// Every engine that this runtime can run (both on Node; the WASM engine's own tests check
// that it is the one chosen there): here each must simply give the same answers.
const engines = runnableEngines;

/** A stream that hands out the chunks one per pull (byte chunks as copies of their own). */
function byteStream<T extends Uint8Array | string>(chunks: T[]): ReadableStream<T> {
  let i = 0;
  return new ReadableStream<T>({
    pull(controller) {
      if (i === chunks.length) {
        controller.close();
        return;
      }
      const chunk = chunks[i++]!;
      controller.enqueue(typeof chunk === "string" ? chunk : (chunk.slice() as T));
    },
  });
}

async function readAll(stream: ReadableStream<ParsedEvent>): Promise<ParsedEvent[]> {
  const events: ParsedEvent[] = [];
  for await (const event of stream as unknown as AsyncIterable<ParsedEvent>) events.push(event);
  return events;
}

/** Pipes the chunks through a ParserStream; events and callback outputs kept apart. */
async function viaStream(
  engine: EngineName,
  chunks: Array<Uint8Array | string>,
  options: { maxEventSize?: number; lastEventId?: string } = {},
): Promise<{ events: Output[]; others: Output[]; lastEventId: string }> {
  const others: Output[] = [];
  const parserStream = new ParserStream({
    engine,
    ...options,
    onRetry: (ms) => others.push({ kind: "retry", ms }),
    onComment: (text) => others.push({ kind: "comment", text }),
    onError: (err) => others.push({ kind: "error", code: err.code }),
  });
  expect(parserStream.engine).toBe(engine);
  const events = (await readAll(byteStream(chunks).pipeThrough(parserStream))).map(
    (e): Output => ({ kind: "event", type: e.type, data: e.data, lastEventId: e.lastEventId }),
  );
  return { events, others, lastEventId: parserStream.lastEventId };
}

function expected(bytes: Uint8Array, options: { maxEventSize?: number; lastEventId?: string } = {}) {
  const { outputs, lastEventId } = oracleParse(bytes, options);
  return {
    events: outputs.filter((o) => o.kind === "event"),
    others: outputs.filter((o) => o.kind !== "event"),
    lastEventId,
  };
}

describe.each(engines)("ParserStream, engine %s", (engine) => {
  test("SSE-shaped byte streams, cut at random, with a bound: as the oracle", async () => {
    await fc.assert(
      fc.asyncProperty(sseStream, cutPoints, maxEventSize, async (bytes, points, max) => {
        expect(await viaStream(engine, cut(bytes, points), { maxEventSize: max })).toEqual(
          expected(bytes, { maxEventSize: max }),
        );
      }),
      { numRuns: 300 },
    );
  });

  test("any bytes, cut at random, with a seeded last event ID: as the oracle", async () => {
    await fc.assert(
      fc.asyncProperty(randomBytes, cutPoints, async (bytes, points) => {
        const options = { lastEventId: "seed" };
        expect(await viaStream(engine, cut(bytes, points), options)).toEqual(expected(bytes, options));
      }),
      { numRuns: 300 },
    );
  });

  test("strings in (text cut between code points): as the oracle on their UTF-8 bytes", async () => {
    await fc.assert(
      fc.asyncProperty(utf8TextStream, cutPoints, async (bytes, points) => {
        const text = new TextDecoder().decode(bytes);
        const chars = Array.from(text);
        const pieces = cut(Uint8Array.from(chars.keys()), points).map((ix) =>
          Array.from(ix, (k) => chars[k]).join(""),
        );
        expect(await viaStream(engine, pieces)).toEqual(expected(bytes));
      }),
      { numRuns: 200 },
    );
  });

  test("the end of the input discards an unfinished event", async () => {
    const got = await viaStream(engine, [enc.encode("data: a\n\ndata: b\nid: 3")]);
    expect(got.events).toEqual([{ kind: "event", type: "message", data: "a", lastEventId: "" }]);
  });

  test('onError "terminate": events before the error arrive, then the stream errors with it', async () => {
    const callbacks: string[] = [];
    const stream = byteStream([
      enc.encode("data: 1\n\ndata: 0123456789\n: after\nretry: 5\n\n"),
      enc.encode("data: 2\n\n"),
    ]).pipeThrough(
      new ParserStream({
        engine,
        maxEventSize: 8,
        onError: "terminate",
        onComment: (c) => callbacks.push(c),
        onRetry: (ms) => callbacks.push(String(ms)),
      }),
    );
    const reader = stream.getReader();
    expect((await reader.read()).value?.data).toBe("1");
    const failure = await reader.read().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ParseError);
    expect((failure as ParseError).code).toBe("EVENT_TOO_LARGE");
    // Nothing after the error was parsed, not even the rest of its chunk.
    expect(callbacks).toEqual([]);
  });

  test("an onError function is called and parsing goes on", async () => {
    const errors: ParseError[] = [];
    const events = await readAll(
      byteStream([enc.encode("data: 0123456789\n\ndata: ok\n\n")]).pipeThrough(
        new ParserStream({ engine, maxEventSize: 8, onError: (e) => errors.push(e) }),
      ),
    );
    expect(errors.map((e) => e.code)).toEqual(["EVENT_TOO_LARGE"]);
    expect(events.map((e) => e.data)).toEqual(["ok"]);
  });

  test("a chunk that is neither bytes nor a string errors the stream", async () => {
    const bad = new ReadableStream<unknown>({
      start(c) {
        c.enqueue(new ArrayBuffer(4));
        c.close();
      },
    });
    await expect(
      readAll((bad as ReadableStream<Uint8Array>).pipeThrough(new ParserStream({ engine }))),
    ).rejects.toThrow(TypeError);
  });
});

test("bad options throw from the constructor", () => {
  expect(() => new ParserStream({ engine: "fast" as EngineName })).toThrow(TypeError);
  expect(() => new ParserStream({ maxEventSize: 0 })).toThrow(RangeError);
  expect(() => new ParserStream({ onError: "ignore" as "terminate" })).toThrow(TypeError);
});

describe("a response body from a local server", () => {
  let server: Server;
  let url: string;
  // Ticks written with pauses, so that the body arrives in several network chunks.
  const body = Array.from({ length: 200 }, (_, i) => `id: ${i}\nevent: tick\ndata: {"n":${i},"s":"\u00e9\u6f22"}\n\n`);

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      let i = 0;
      const timer = setInterval(() => {
        // Split inside an event (and inside a code point now and then).
        const bytes = enc.encode(body.slice(i, i + 20).join(""));
        const at = (i * 7) % bytes.length;
        res.write(bytes.subarray(0, at));
        res.write(bytes.subarray(at));
        i += 20;
        if (i >= body.length) {
          clearInterval(timer);
          res.end(": bye\ndata: unfinished");
        }
      }, 2);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test.each(engines)("engine %s: fetch(...).body.pipeThrough(new ParserStream())", async (engine) => {
    const response = await fetch(url);
    const events = await readAll(response.body!.pipeThrough(new ParserStream({ engine })));
    const all = enc.encode(body.join("") + ": bye\ndata: unfinished");
    expect(events.map((e) => ({ kind: "event", ...e }))).toEqual(expected(all).events);
    expect(events).toHaveLength(200);
  });
});
