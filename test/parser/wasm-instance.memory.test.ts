// Ten thousand idle WASM parsers, each holding a small partial event, must cost less than
// 8 KiB each beyond their pending bytes: the Instance is shared, and a parser that is not
// the last one fed keeps its state in a small array of its own. Measured in a child process
// with --expose-gc, where nothing else shares the heap.
import { execFileSync } from "node:child_process";
import { beforeAll, expect, test } from "vitest";
import { bundleSource } from "../support/wasm-bundle.js";

let bundle: string;
beforeAll(async () => {
  bundle = await bundleSource();
}, 60_000);

const program = (bundlePath: string) => `
import { createParser } from ${JSON.stringify(bundlePath)};
const N = 10_000;
const enc = new TextEncoder();
// Pending per parser: type "tick" (4) + data '{"s":"AAPL"}' and its LF (13) + line "data: pen" (9).
const partial = enc.encode('id: 42\\nevent: tick\\ndata: {"s":"AAPL"}\\ndata: pen');
const PENDING = 26;

function used() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

// The Module and Instance are created once per process: load them before measuring.
const warm = createParser({ onEvent() {} }, { engine: "wasm" });
warm.feed(partial);
warm.end();

const before = used();
const parsers = [];
const events = [];
for (let i = 0; i < N; i++) {
  const p = createParser({ onEvent: (e) => events.push(e) }, { engine: "wasm" });
  p.feed(partial);
  parsers.push(p);
}
const after = used();

// The state really was kept: every parser finishes its own event.
for (const p of parsers) p.feed(enc.encode("ding\\n\\n"));
const ok = events.length === N && events.every((e) =>
  e.type === "tick" && e.data === '{"s":"AAPL"}\\npending' && e.lastEventId === "42");
console.log(JSON.stringify({ engine: parsers[0].engine, perParser: (after - before) / N - PENDING, ok }));
`;

test("10,000 idle parsers with a partial event: < 8 KiB each beyond the pending bytes", () => {
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", "--input-type=module", "-e", program(bundle)],
    { encoding: "utf8" },
  );
  const result = JSON.parse(out) as { engine: string; perParser: number; ok: boolean };
  console.log(`WASM engine: ${Math.round(result.perParser)} bytes per idle parser beyond pending bytes`);
  expect(result.engine).toBe("wasm");
  expect(result.ok).toBe(true);
  expect(result.perParser).toBeLessThan(8 * 1024);
});
