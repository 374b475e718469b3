// The parser implementations under test, behind one shape so that every one receives the
// same pre-cut chunks and does the work a user needs: get the type, data and last event
// ID strings of each event and touch them (their lengths are summed).

import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createParser as createEventsourceParser } from "eventsource-parser";

const require = createRequire(import.meta.url);
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// BENCH_DIST=<path to an index.js>: measure another build (say, a patched copy) instead.
export const DIST = process.env.BENCH_DIST ? resolve(process.env.BENCH_DIST) : fileURLToPath(new URL("../../dist/index.js", import.meta.url));
// BENCH_BASE_DIST=<a checkout of an earlier commit>/dist/index.js: measure that build too, in
// the same run (ids "wasm@base", "js@base"), to show what a change did to the speed.
export const BASE_DIST = process.env.BENCH_BASE_DIST ? resolve(process.env.BENCH_BASE_DIST) : null;

/** The short commit of the checkout a build lives in, for labels. */
export function commitOf(/** @type {string} */ distFile) {
  try {
    return execFileSync("git", ["-C", dirname(distFile), "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "base";
  }
}

/**
 * What one pass over a corpus produced.
 * @typedef {{ events: number, dataLength: number, touched: number }} Tally
 */

/**
 * @typedef {object} Impl
 * @property {string} id     stable key, e.g. "wasm", "js", "eventsource-parser", "undici"
 * @property {string} label  for tables
 * @property {boolean} ours
 * @property {(chunks: Uint8Array[]) => Tally} run  one whole stream: fresh parser, all chunks
 * @property {(onEvent: (dataLength: number) => void) => Stream} open  a streaming parser, for
 *   the memory bench (which feeds chunk by chunk and keeps parsers alive)
 *
 * @typedef {{ feed(chunk: Uint8Array): void, end(): void }} Stream
 */

/**
 * @typedef {object} Loaded
 * @property {Impl[]} impls  available implementations, ours first
 * @property {string[]} notes  what could not be loaded, and why
 * @property {any} dist  our dist module, if it loaded
 */

/** @returns {Promise<any>} our built package, or null if dist/ is missing */
export async function loadDist() {
  if (!existsSync(DIST)) return null;
  return import(pathToFileURL(DIST).href);
}

/**
 * @param {any} dist
 * @param {"wasm" | "js"} engine
 * @param {string | null} [base] the commit of an earlier build (BENCH_BASE_DIST)
 * @returns {Impl}
 */
function ours(dist, engine, base = null) {
  const { createParser } = dist;
  const name = engine === "wasm" ? "WASM" : "TS";
  return {
    id: base ? `${engine}@base` : engine,
    label: base ? `ours at ${base} (${name})` : `ours (${name})`,
    ours: true,
    run(chunks) {
      let events = 0;
      let dataLength = 0;
      let touched = 0;
      const parser = createParser(
        {
          onEvent(event) {
            events++;
            dataLength += event.data.length;
            touched += event.type.length + event.lastEventId.length;
          },
        },
        { engine },
      );
      for (let i = 0; i < chunks.length; i++) parser.feed(chunks[i]);
      parser.end();
      return { events, dataLength, touched };
    },
    open(onEvent) {
      const parser = createParser({ onEvent: (event) => onEvent(event.data.length + 0 * event.type.length) }, { engine });
      return { feed: (chunk) => parser.feed(chunk), end: () => parser.end() };
    },
  };
}

/** eventsource-parser 3.x takes strings: bytes go through one streaming TextDecoder. */
/** @type {Impl} */
const eventsourceParser = {
  id: "eventsource-parser",
  label: "eventsource-parser 3",
  ours: false,
  run(chunks) {
    let events = 0;
    let dataLength = 0;
    let touched = 0;
    const decoder = new TextDecoder();
    const parser = createEventsourceParser({
      onEvent(event) {
        events++;
        dataLength += event.data.length;
        // `event` is undefined for the default type; `id` is the id set in this event.
        touched += (event.event ?? "message").length + (event.id ?? "").length;
      },
    });
    for (let i = 0; i < chunks.length; i++) parser.feed(decoder.decode(chunks[i], { stream: true }));
    parser.feed(decoder.decode());
    return { events, dataLength, touched };
  },
  open(onEvent) {
    const decoder = new TextDecoder();
    const parser = createEventsourceParser({ onEvent: (event) => onEvent(event.data.length) });
    return {
      feed: (chunk) => parser.feed(decoder.decode(chunk, { stream: true })),
      end: () => parser.feed(decoder.decode()),
    };
  },
};

/**
 * undici's internal parser: EventSourceStream, a Transform stream. We call its `_transform`
 * directly with a `push` hook, so that what is measured is the parser, not stream plumbing
 * (which its EventSource pays on top, and which the e2e bench measures).
 * @returns {{ impl: Impl | null, note: string | null }}
 */
function loadUndici() {
  const path = "undici/lib/web/eventsource/eventsource-stream.js";
  let EventSourceStream;
  try {
    ({ EventSourceStream } = require(path));
  } catch (error) {
    return { impl: null, note: `undici's EventSourceStream could not be loaded (${path}): ${error}` };
  }
  if (typeof EventSourceStream !== "function") {
    return { impl: null, note: `undici's ${path} has no EventSourceStream export` };
  }
  const version = require("undici/package.json").version;
  /** @param {unknown} error */
  const fail = (error) => {
    if (error) throw error;
  };
  return {
    note: null,
    impl: {
      id: "undici",
      label: `undici ${version.split(".")[0]} (EventSourceStream)`,
      ours: false,
      run(chunks) {
        let events = 0;
        let dataLength = 0;
        let touched = 0;
        const stream = new EventSourceStream({
          eventSourceSettings: { lastEventId: "", origin: "http://127.0.0.1" },
          push(/** @type {any} */ event) {
            events++;
            dataLength += event.options.data.length;
            touched += event.type.length + event.options.lastEventId.length;
            return true;
          },
        });
        for (let i = 0; i < chunks.length; i++) {
          // It reads fields with Buffer#toString, so it needs Buffers (our chunks are).
          stream._transform(chunks[i], "buffer", fail);
        }
        stream.destroy();
        return { events, dataLength, touched };
      },
      open(onEvent) {
        const stream = new EventSourceStream({
          eventSourceSettings: { lastEventId: "", origin: "http://127.0.0.1" },
          push(/** @type {any} */ event) {
            onEvent(event.options.data.length);
            return true;
          },
        });
        return { feed: (chunk) => stream._transform(chunk, "buffer", fail), end: () => stream.destroy() };
      },
    },
  };
}

/**
 * Loads every implementation that is available (env BENCH_IMPLS=id,id narrows the set). Ours come from dist/ (what users get).
 * @param {{ requireOurs?: boolean }} [options] throw if one of our engines is missing
 * @returns {Promise<Loaded>}
 */
export async function loadImpls({ requireOurs = false } = {}) {
  /** @type {Impl[]} */
  const impls = [];
  /** @type {string[]} */
  const notes = [];
  const dist = await loadDist();
  if (!dist) {
    notes.push("dist/index.js is missing (run `npm run build`): our engines were not measured");
  } else if (typeof dist.createParser !== "function") {
    notes.push("dist/index.js does not export createParser: our engines were not measured");
  } else {
    for (const engine of /** @type {const} */ (["wasm", "js"])) {
      try {
        const probe = dist.createParser({ onEvent() {} }, { engine });
        if (probe.engine !== engine) throw new Error(`asked for ${engine}, got ${probe.engine}`);
        impls.push(ours(dist, engine));
      } catch (error) {
        notes.push(`our ${engine} engine is not available: ${/** @type {Error} */ (error).message}`);
      }
    }
  }
  if (requireOurs && impls.length < 2) throw new Error(notes.join("; "));
  if (BASE_DIST) {
    const base = await import(pathToFileURL(BASE_DIST).href);
    for (const engine of /** @type {const} */ (["wasm", "js"])) impls.push(ours(base, engine, commitOf(BASE_DIST)));
  }
  impls.push(eventsourceParser);
  const undici = loadUndici();
  if (undici.impl) impls.push(undici.impl);
  if (undici.note) notes.push(undici.note);
  // BENCH_IMPLS=js,eventsource-parser: measure only these (eventsource-parser, the baseline
  // of every ratio, is always kept).
  const only = process.env.BENCH_IMPLS?.split(",");
  if (only) {
    const dropped = impls.filter((i) => !only.includes(i.id) && i.id !== "eventsource-parser");
    if (dropped.length) notes.push(`BENCH_IMPLS: left out ${dropped.map((i) => i.label).join(", ")}`);
    return { impls: impls.filter((i) => !dropped.includes(i)), notes, dist };
  }
  return { impls, notes, dist };
}
