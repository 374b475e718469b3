/**
 * `EventSource.fromReadableStream` (WHATWG proposal whatwg/html#12272): the cases of
 * web-platform-tests `eventsource/eventsource-from-readable-stream.any.js` (and its fetch()
 * twin, against a local server), for both parser engines; and StreamInput, the transport
 * that hands the stream over once (src/client/readable.ts).
 */
import { afterEach, describe, expect, test } from "vitest";
import { STREAM_URL, StreamInput } from "../../src/client/readable.js";
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

describe("StreamInput", () => {
  const fetchOf = (input: StreamInput) => input.fetch(STREAM_URL, { method: "GET", headers: {}, redirect: "manual" } as never);

  test("its fetch answers once: 200, text/event-stream, a body whose reader is the stream's; then it refuses", async () => {
    const input = new StreamInput(fromString("data: x\n\n"));
    const response = await fetchOf(input);
    expect([response.status, response.statusText, response.headers.get("content-type")]).toEqual([200, "", "text/event-stream"]);
    const reader = (response.body as { getReader(): ReadableStreamDefaultReader<Uint8Array> }).getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe("data: x\n\n");
    await expect(fetchOf(input)).rejects.toThrow(new TypeError("the stream of this source was read already"));
  });

  test("the stream is locked from construction; release() before the fetch cancels it, and then fetch refuses", async () => {
    let cancelled: unknown = "no";
    const stream = new ReadableStream({ cancel: (reason) => void (cancelled = reason) });
    const input = new StreamInput(stream);
    expect(stream.locked).toBe(true);
    input.release();
    await until(() => cancelled !== "no");
    expect(cancelled).toBeUndefined();
    await expect(fetchOf(input)).rejects.toThrow(TypeError);
  });

  test("release() after the fetch leaves the stream to the reader that has it", async () => {
    let cancels = 0;
    const input = new StreamInput(new ReadableStream({ cancel: () => void cancels++ }));
    await fetchOf(input);
    input.release();
    await sleep(10);
    expect(cancels).toBe(0);
  });

  test("not a ReadableStream, or a locked one, is a TypeError at once; it reads as about:event-stream", () => {
    for (const bad of [null, undefined, "data: x", {}, { getReader: 1 }]) {
      expect(() => new StreamInput(bad), String(bad)).toThrow(
        new TypeError("EventSource.fromReadableStream: the argument is not a ReadableStream"),
      );
    }
    const locked = fromString("");
    locked.getReader();
    expect(() => new StreamInput(locked)).toThrow(new TypeError("EventSource.fromReadableStream: the stream is locked"));
    expect(String(new StreamInput(fromString("")))).toBe("about:event-stream");
  });
});
