/**
 * `EventSource.fromReadableStream` (WHATWG proposal whatwg/html#12272): the cases of
 * web-platform-tests `eventsource/eventsource-from-readable-stream.any.js` (and its fetch()
 * twin, against a local server), for both parser engines.
 */
import { afterEach, describe, expect, test } from "vitest";
import { EventSource, EventSourceError } from "../../src/index.js";
import { sleep, sse, startServer, until } from "../support/server.js";
import { closeSources, track } from "../support/sources.js";

afterEach(closeSources);

const encoder = new TextEncoder();
const fromString = (text: string): ReadableStream<Uint8Array> => fromChunks([text]);
function fromChunks(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === "string" ? encoder.encode(c) : c);
      controller.close();
    },
  });
}

function next(source: EventSource, type: string): Promise<Event> {
  return new Promise((resolve) => source.addEventListener(type, resolve, { once: true }));
}

describe.each(["wasm", "js"] as const)("fromReadableStream (%s engine)", (engine) => {
  const from = (stream: ReadableStream<Uint8Array>): EventSource => {
    return track(EventSource.fromReadableStream(stream, { engine }));
  };

  test("an EventSource: CONNECTING at first, url about:event-stream, no credentials, empty id, reconnectionTime > 0", () => {
    const s = from(fromString(""));
    expect(s).toBeInstanceOf(EventSource);
    expect(s.readyState).toBe(EventSource.CONNECTING);
    expect(s.url).toBe("about:event-stream");
    expect(s.withCredentials).toBe(false);
    expect(s.lastEventId).toBe("");
    expect(s.reconnectionTime).toBeGreaterThan(0);
    expect(s.engine).toBe(engine);
  });

  test("a locked stream is a TypeError, at once", () => {
    const stream = new ReadableStream();
    stream.getReader();
    expect(() => EventSource.fromReadableStream(stream)).toThrow(TypeError);
    expect(() => EventSource.fromReadableStream({} as never)).toThrow(TypeError);
  });

  test("fires open (OPEN), then messages: multi-line, several, named, comments ignored, origin 'null'", async () => {
    const s = from(fromString(": comment\ndata: hello\ndata: world\n\ndata: second\n\nevent: custom\ndata: c\n\n"));
    const opened = next(s, "open").then(() => s.readyState);
    const messages: MessageEvent[] = [];
    s.onmessage = (e) => messages.push(e as MessageEvent);
    const custom = next(s, "custom") as Promise<MessageEvent>;
    expect(await opened).toBe(EventSource.OPEN);
    expect((await custom).data).toBe("c");
    expect(messages.map((m) => m.data)).toEqual(["hello\nworld", "second"]);
    expect(messages[0]!.origin).toBe("null");
  });

  test("data split across chunks; CR, LF and CRLF; a leading BOM stripped", async () => {
    const s = from(
      fromChunks([new Uint8Array([0xef, 0xbb, 0xbf]), "da", "ta: hel", "lo\n\n", "data: cr\r\rdata: lf\n\ndata: crlf\r\n\r\n"]),
    );
    const got: string[] = [];
    s.onmessage = (e) => got.push(e.data);
    await next(s, "error");
    expect(got).toEqual(["hello", "cr", "lf", "crlf"]);
  });

  test("id sets lastEventId; retry sets reconnectionTime; a bogus retry is ignored", async () => {
    const s = from(fromString("id: 42\nretry: 5000\ndata: hello\n\nretry: bogus\ndata: again\n\n"));
    const seen: [string, string, number][] = [];
    s.onmessage = (e) => seen.push([e.data, s.lastEventId, s.reconnectionTime]);
    await next(s, "error");
    expect(seen).toEqual([
      ["hello", "42", 5000],
      ["again", "42", 5000],
    ]);
  });

  test("close() is CLOSED at once and cancels the stream", async () => {
    let cancelled = false;
    const stream = new ReadableStream({ cancel: () => void (cancelled = true) });
    const s = from(stream);
    s.close();
    expect(s.readyState).toBe(EventSource.CLOSED);
    await until(() => cancelled);
  });

  test("the end of the stream: complete events first, then one error, CLOSED, no reconnection", async () => {
    const s = from(fromString("data: hello\n\ndata: unfinished"));
    const log: string[] = [];
    s.onmessage = (e) => log.push(`message ${e.data}`);
    s.onerror = (e) => log.push(`error ${s.readyState} ${e.code}: ${e.message}`);
    await until(() => log.length === 2);
    await sleep(200);
    expect(log).toEqual(["message hello", "error 2 STREAM_ENDED: the stream ended"]);
  });

  test("an empty stream fires error and is CLOSED; so does a stream that errors", async () => {
    const empty = from(fromString(""));
    await next(empty, "error");
    expect(empty.readyState).toBe(EventSource.CLOSED);
    const broken = from(new ReadableStream({ start: (c) => c.error(new Error("stream error")) }));
    const e = (await next(broken, "error")) as unknown as { code: string; cause: Error };
    expect(broken.readyState).toBe(EventSource.CLOSED);
    expect(e.cause.message).toBe("stream error");
  });

  test("TransformStream pattern: several streams piped in; lastEventId and reconnectionTime persist", async () => {
    const ts = new TransformStream<Uint8Array, Uint8Array>();
    const s = from(ts.readable);
    const got: string[] = [];
    s.onmessage = (e) => got.push(e.data);
    await fromString("id: 42\nretry: 3000\ndata: first\n\n").pipeTo(ts.writable, { preventClose: true });
    await until(() => got.length === 1);
    expect([s.lastEventId, s.reconnectionTime]).toEqual(["42", 3000]);
    const ended = next(s, "error");
    await fromString("data: second\n\n").pipeTo(ts.writable);
    await ended;
    expect(got).toEqual(["first", "second"]);
    expect([s.lastEventId, s.reconnectionTime]).toEqual(["42", 3000]);
  });

  test("iterators: the end of the stream ends them; its error is thrown", async () => {
    const s = from(fromString("data: a\n\ndata: b\n\n"));
    const got: string[] = [];
    for await (const e of s.events()) got.push(e.data);
    expect(got).toEqual(["a", "b"]);
    const t = from(
      new ReadableStream({
        start(c) {
          c.enqueue(encoder.encode("data: a\n\n"));
          setTimeout(() => c.error(new Error("boom")), 20);
        },
      }),
    );
    const batches: string[][] = [];
    await expect(
      (async () => {
        for await (const b of t.batches()) batches.push(b.map((r) => r.data));
      })(),
    ).rejects.toBeInstanceOf(EventSourceError);
    expect(batches).toEqual([["a"]]);
  });

  test("a fetch() response body (a local server): events, lastEventId, reconnectionTime", async () => {
    const server = await startServer((_req, res) => {
      sse(res);
      res.end("id: 42\nretry: 5000\ndata: hello\n\n");
    });
    const response = await fetch(server.url, { method: "POST", body: "{}" });
    const s = from(response.body!);
    const e = (await next(s, "message")) as MessageEvent;
    expect([e.data, s.lastEventId, s.reconnectionTime]).toEqual(["hello", "42", 5000]);
  });
});
