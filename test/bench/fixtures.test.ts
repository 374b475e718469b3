// The benchmark corpora (bench/fixtures.mjs) are what every figure in bench/RESULTS.md is
// measured on: check that each parses to the events it claims, with our engines at several
// chunkings, with the spec oracle, and with eventsource-parser as a second opinion.

import { describe, expect, test } from "vitest";
import { createParser as createEventsourceParser } from "eventsource-parser";
import { createParser } from "../../src/index.js";
import type { EngineName, ParsedEvent } from "../../src/parser/types.js";
import { runnableEngines } from "../support/collect.js";
import { oracleParse } from "../support/oracle.js";
import {
  DEFAULT_SEED,
  WORKLOADS,
  cutChunks,
  heartbeats,
  largePayloads,
  marketTicks,
  marketTicksCrlf,
  multiLine,
  prng,
  shortTicks,
  utf8Text,
  type Corpus,
} from "../../bench/fixtures.mjs";

const SIZE = 48 * 1024;

const engines = runnableEngines;

function parseWith(engine: EngineName, chunks: Uint8Array[]): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) }, { engine });
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return events;
}

function tally(events: { data: string }[]) {
  return { events: events.length, dataLength: events.reduce((n, e) => n + e.data.length, 0) };
}

/** Seeded random cut points, a few bytes to a few KiB apart. */
function randomChunks(bytes: Uint8Array, seed: number): Uint8Array[] {
  const rand = prng(seed);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(rand() ** 3 * 4096);
    chunks.push(bytes.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

const corpora: Corpus[] = WORKLOADS.map((w) => w.generate({ size: SIZE }));

describe.each(corpora.map((c) => [c.name, c] as const))("corpus %s", (_name, corpus) => {
  test("is deterministic, seeded, and about the size asked", () => {
    const again = WORKLOADS.find((w) => w.name === corpus.name)!.generate({ size: SIZE });
    expect(again.bytes.equals(corpus.bytes)).toBe(true);
    const other = WORKLOADS.find((w) => w.name === corpus.name)!.generate({ size: SIZE, seed: DEFAULT_SEED + 1 });
    expect(other.bytes.equals(corpus.bytes)).toBe(false);
    expect(corpus.bytes.length).toBeGreaterThanOrEqual(SIZE);
    expect(corpus.bytes.length).toBeLessThan(SIZE + corpus.largestEvent + 64);
    expect(corpus.events).toBeGreaterThan(0);
  });

  test("the spec oracle agrees with the expected count and data length", () => {
    const events = oracleParse(corpus.bytes).outputs.filter((o) => o.kind === "event");
    expect(tally(events as { data: string }[])).toEqual({ events: corpus.events, dataLength: corpus.dataLength });
  });

  test("eventsource-parser agrees (fed through a streaming TextDecoder)", () => {
    const events: { data: string }[] = [];
    const decoder = new TextDecoder();
    const parser = createEventsourceParser({ onEvent: (e) => events.push(e) });
    for (const chunk of cutChunks(corpus.bytes, 1460)) parser.feed(decoder.decode(chunk, { stream: true }));
    expect(tally(events)).toEqual({ events: corpus.events, dataLength: corpus.dataLength });
  });

  test.each(engines)("our %s engine agrees at every chunking the bench uses, and at random cuts", (engine) => {
    const expected = { events: corpus.events, dataLength: corpus.dataLength };
    const whole = parseWith(engine, [corpus.bytes]);
    expect(tally(whole)).toEqual(expected);
    for (const size of [65536, 1460, 64, 7]) {
      expect(parseWith(engine, cutChunks(corpus.bytes, size))).toEqual(whole);
    }
    expect(parseWith(engine, randomChunks(corpus.bytes, 42))).toEqual(whole);
  });
});

describe("what each workload is made of", () => {
  const parse = (c: Corpus) => parseWith("js", [c.bytes]);

  test("market ticks: ~120-byte events with id, event: tick and one-line JSON data", () => {
    const c = marketTicks({ size: SIZE });
    const avg = c.bytes.length / c.events;
    expect(avg).toBeGreaterThan(105);
    expect(avg).toBeLessThan(135);
    const events = parse(c);
    expect(events[0].type).toBe("tick");
    expect(events[0].lastEventId).toBe("1000001");
    for (const e of events) expect(() => JSON.parse(e.data)).not.toThrow();
    expect(c.bytes.includes("\r")).toBe(false);
  });

  test("market ticks with CRLF: the same events, every line end CRLF", () => {
    const lf = marketTicks({ events: 400 });
    const crlf = marketTicksCrlf({ events: 400 });
    expect(crlf.bytes.toString("latin1").replace(/\r\n/g, "\n")).toBe(lf.bytes.toString("latin1"));
    expect(/[^\r]\n/.test(crlf.bytes.toString("latin1"))).toBe(false);
    expect(parse(crlf)).toEqual(parse(lf));
  });

  test("marketTicks({ events }) stops at that many events", () => {
    expect(marketTicks({ events: 123 }).events).toBe(123);
  });

  test("short ticks: ~100-byte events, each with an id and a type of its own", () => {
    const c = shortTicks({ size: SIZE });
    const avg = c.bytes.length / c.events;
    expect(avg).toBeGreaterThan(90);
    expect(avg).toBeLessThan(110);
    const events = parse(c);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(["quote", "trade"]));
    expect(new Set(events.map((e) => e.lastEventId)).size).toBe(c.events);
    for (const e of events) expect(() => JSON.parse(e.data)).not.toThrow();
    expect(shortTicks({ events: 50 }).events).toBe(50);
  });

  test("large payloads: one 16 KiB data line per event", () => {
    const c = largePayloads({ size: 4 * SIZE });
    for (const e of parse(c)) expect(e.data.length).toBe(16 * 1024);
    expect(c.largestEvent).toBeGreaterThan(16 * 1024);
    expect(c.largestEvent).toBeLessThan(16 * 1024 + 64);
  });

  test("multi-line: 20 data lines per event", () => {
    for (const e of parse(multiLine({ size: SIZE }))) expect(e.data.split("\n")).toHaveLength(20);
  });

  test("heartbeats: `: ping` comments between small events", () => {
    const c = heartbeats({ size: SIZE });
    const comments: string[] = [];
    const parser = createParser({ onEvent() {}, onComment: (t) => comments.push(t) }, { engine: "js" });
    parser.feed(c.bytes);
    expect(comments.length).toBeGreaterThanOrEqual(c.events);
    expect(new Set(comments)).toEqual(new Set(["ping"]));
  });

  test("utf8: multi-byte code points, including ones outside the BMP", () => {
    const c = utf8Text({ size: SIZE });
    const text = parse(c).map((e) => e.data).join("");
    expect(/[\u3040-\u9fff]/.test(text)).toBe(true); // CJK
    expect(/[\ud800-\udbff][\udc00-\udfff]/.test(text)).toBe(true); // surrogate pairs (emoji)
    expect(Buffer.byteLength(text)).toBeGreaterThan(text.length * 1.5);
  });
});
