// Delivery on its own: one chunk in, its events out to listeners and iterators, its counters,
// and the `open` gate (HTML dispatch step 8) that the source sets with readyState.
import { describe, expect, test } from "vitest";
import { Delivery } from "../../src/client/delivery.js";
import { EventSourceErrorEvent } from "../../src/client/errors.js";
import type { EventSourceMessageEvent } from "../../src/client/types.js";
import { consumerSettings, reconnectSettings } from "../../src/client/options.js";
import { ReconnectPolicy } from "../../src/client/reconnect.js";
import type { ParsedEvent } from "../../src/parser/types.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function setup(engine: "wasm" | "js", maxEventSize?: number) {
  const target = new EventTarget();
  const policy = new ReconnectPolicy(reconnectSettings({ initialDelay: 3000 }));
  let pressure = 0;
  const delivery = new Delivery(target, { engine, maxEventSize }, policy, () => pressure++);
  const messages: string[] = [];
  const listen = (type: string, record: (event: Event) => void): void => {
    target.addEventListener(type, record);
    delivery.book.added(type, record);
  };
  listen("message", (event) => messages.push((event as EventSourceMessageEvent).data));
  return { target, policy, delivery, messages, listen, pressure: () => pressure };
}

describe.each(["wasm", "js"] as const)("Delivery (%s engine)", (engine) => {
  test("a chunk's events reach listeners only while open, and are counted once each", () => {
    const { delivery, messages } = setup(engine);
    delivery.chunk(bytes("data: before\n\n"), 0);
    expect(messages).toEqual([]);
    expect(delivery.events).toBe(0);
    expect(delivery.bytes).toBe(14);

    delivery.open = true;
    delivery.chunk(bytes("data: a\n\ndata: b\n\n"), 0);
    expect(messages).toEqual(["a", "b"]);
    expect(delivery.events).toBe(2);
    expect(delivery.bytes).toBe(14 + 18);
  });

  test("close() in a listener (open cleared mid-chunk) skips the rest of the chunk", () => {
    const { delivery, messages, target } = setup(engine);
    delivery.open = true;
    target.addEventListener("message", () => {
      if (messages.length === 2) delivery.open = false;
    });
    delivery.chunk(bytes("data: 1\n\ndata: 2\n\ndata: 3\n\n"), 0);
    expect(messages).toEqual(["1", "2"]);
    expect(delivery.events).toBe(2);
  });

  test("lastEventAt: the caller's clock reading when given, else Date.now(); untouched by a chunk without events", () => {
    const { delivery } = setup(engine);
    delivery.open = true;
    delivery.chunk(bytes("data: x\n\n"), 1234);
    expect(delivery.lastEventAt).toBe(1234);
    delivery.chunk(bytes(": heartbeat\n"), 99_999);
    expect(delivery.lastEventAt).toBe(1234);
    const before = Date.now();
    delivery.chunk(bytes("data: y\n\n"), 0);
    expect(delivery.lastEventAt).toBeGreaterThanOrEqual(before);
  });

  test("retry: sets the reconnection time while open, not otherwise", () => {
    const { delivery, policy } = setup(engine);
    delivery.chunk(bytes("retry: 50\n\n"), 0);
    expect(policy.reconnectionTime).toBe(3000);
    delivery.open = true;
    delivery.chunk(bytes("retry: 70\n\n"), 0);
    expect(policy.reconnectionTime).toBe(70);
  });

  test("an event over maxEventSize: an error event (willReconnect false), counted, and the stream goes on", () => {
    const { delivery, messages, listen } = setup(engine, 64);
    const errors: EventSourceErrorEvent[] = [];
    listen("error", (event) => errors.push(event as EventSourceErrorEvent));
    delivery.open = true;
    delivery.chunk(bytes(`data: ${"x".repeat(100)}\n\ndata: ok\n\n`), 0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(EventSourceErrorEvent);
    expect(errors[0]!.willReconnect).toBe(false);
    expect(errors[0]!.code).toBe("EVENT_TOO_LARGE");
    expect(delivery.parseErrors).toBe(1);
    expect(messages).toEqual(["ok"]);
  });

  test("batches(): one array per chunk, handed over when the chunk was parsed", async () => {
    const { delivery } = setup(engine);
    const batches = delivery.addBatches(consumerSettings<ParsedEvent>({}), () => {}).iterator();
    delivery.open = true;
    delivery.chunk(bytes("data: a\n\ndata: b\n\ndata: c"), 0);
    delivery.chunk(bytes("\n\n"), 0);
    delivery.end(null);
    const got: string[][] = [];
    for await (const batch of batches) got.push(batch.map((event) => event.data));
    expect(got).toEqual([["a", "b"], ["c"]]);
  });

  test("events(): every event of the chunk, also with no listener; dropped ones are counted", async () => {
    const { delivery } = setup(engine);
    const settings = consumerSettings<EventSourceMessageEvent>({ bufferSize: 2, overflow: "drop-oldest" });
    const events = delivery.addEvents(settings, () => {}).iterator();
    delivery.open = true;
    delivery.chunk(bytes("data: 1\n\ndata: 2\n\ndata: 3\n\n"), 0);
    delivery.end(null);
    const got: string[] = [];
    for await (const event of events) got.push(event.data);
    expect(got).toEqual(["2", "3"]);
    expect(delivery.dropped).toBe(1);
  });

  test("origin: what the source set for the stream", () => {
    const { delivery, listen } = setup(engine);
    const origins: string[] = [];
    listen("tick", (event) => origins.push((event as MessageEvent).origin));
    delivery.origin = "http://127.0.0.1:1234";
    delivery.open = true;
    delivery.chunk(bytes("event: tick\ndata: x\n\n"), 0);
    expect(origins).toEqual(["http://127.0.0.1:1234"]);
  });
});
