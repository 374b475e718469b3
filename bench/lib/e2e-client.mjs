// One end-to-end client, in a process of its own (forked by bench/e2e.bench.mjs with
// --expose-gc): so that no other client's heap, JIT state or garbage is billed to it, and
// process.cpuUsage() is this client's CPU alone (the server runs in yet another process).
//
//   fork("bench/lib/e2e-client.mjs", [clientId, url, events, dataLength])
//   -> { ready: true, label, ours } | { skip: reason, label }
//   <- { run: true }  -> { ms, cpuUs, events, dataLength, bytes } | { error }
//
// Each run is one whole stream: open, receive every event (touching its type, data and last
// event ID, as a user would), close at the last one. A full GC comes before each run, outside
// the timed span, so that one stream's garbage is not collected on the next one's clock.

import http from "node:http";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { DIST, loadDist } from "./impls.mjs";

const require = createRequire(import.meta.url);
const [id, url, eventsArg, dataLengthArg] = process.argv.slice(2);
const N = Number(eventsArg);
const DATA_LENGTH = Number(dataLengthArg);

/**
 * @typedef {{ events: number, dataLength: number, touched: number, bytes?: number }} Tally
 * @typedef {{ label: string, ours: boolean, floor?: boolean, skip?: string, run?: () => Promise<Tally> }} Client
 */

/**
 * A WHATWG-style EventSource, listening for `tick`, closed at the Nth one (they reconnect
 * when a stream ends, so the end of the stream cannot be the signal).
 * @param {() => any} open
 * @returns {() => Promise<Tally>}
 */
function listeners(open) {
  return () =>
    new Promise((resolve, reject) => {
      let events = 0;
      let dataLength = 0;
      let touched = 0;
      const source = open();
      source.addEventListener("tick", (/** @type {MessageEvent} */ event) => {
        events++;
        dataLength += event.data.length;
        touched += event.type.length + event.lastEventId.length;
        if (events === N) {
          source.close();
          resolve({ events, dataLength, touched });
        }
      });
      source.addEventListener("error", (/** @type {any} */ event) => {
        if (events < N) {
          source.close();
          reject(new Error(`error event after ${events}/${N} events: ${event?.message ?? event?.error ?? ""}`));
        }
      });
    });
}

/**
 * A plain GET on node:http; `onChunk` sees every body chunk, `onEnd` runs at the end.
 * @param {(chunk: Buffer) => void} onChunk
 * @returns {Promise<void>}
 */
function get(onChunk) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        res.on("data", onChunk);
        res.on("end", resolve);
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

/** @returns {Promise<Client>} */
async function load() {
  const major = (/** @type {string} */ pkg) => require(`${pkg}/package.json`).version.split(".")[0];
  switch (id) {
    case "floor":
      return {
        label: "floor: node:http, bytes only",
        ours: false,
        floor: true,
        run: async () => {
          let bytes = 0;
          await get((chunk) => (bytes += chunk.length));
          return { events: NaN, dataLength: NaN, touched: 0, bytes };
        },
      };
    case "http-esp": {
      const { createParser } = await import("eventsource-parser");
      return {
        label: `node:http + eventsource-parser ${major("eventsource-parser")}`,
        ours: false,
        run: async () => {
          let events = 0;
          let dataLength = 0;
          let touched = 0;
          const decoder = new TextDecoder();
          const parser = createParser({
            onEvent(event) {
              events++;
              dataLength += event.data.length;
              touched += (event.event ?? "message").length + (event.id ?? "").length;
            },
          });
          await get((chunk) => parser.feed(decoder.decode(chunk, { stream: true })));
          parser.feed(decoder.decode());
          return { events, dataLength, touched };
        },
      };
    }
    case "eventsource": {
      const { EventSource } = await import("eventsource");
      return { label: `eventsource ${major("eventsource")} (npm)`, ours: false, run: listeners(() => new EventSource(url)) };
    }
    case "undici": {
      const { EventSource } = require("undici");
      return { label: `undici ${major("undici")} EventSource`, ours: false, run: listeners(() => new EventSource(url)) };
    }
  }
  const labels = /** @type {Record<string, string>} */ ({
    wasm: "ours EventSource, listeners (WASM)",
    js: "ours EventSource, listeners (TS)",
    iter: "ours for await (source.events()) (WASM)",
    batches: "ours source.batches() (WASM)",
  });
  const label = labels[id];
  if (label === undefined) throw new Error(`unknown client ${id}`);
  const dist = await loadDist();
  if (!dist) return { label, ours: true, skip: `${DIST} is missing (run \`npm run build\`)` };
  const { EventSource } = dist;
  const engine = id === "js" ? "js" : "wasm";
  const probe = new EventSource("http://127.0.0.1:9/", { engine });
  probe.close();
  if (probe.engine !== engine) throw new Error(`${label}: asked for engine ${engine}, got ${probe.engine}`);
  if (id === "wasm" || id === "js") return { label, ours: true, run: listeners(() => new EventSource(url, { engine })) };
  if (id === "iter") {
    return {
      label,
      ours: true,
      run: async () => {
        let events = 0;
        let dataLength = 0;
        let touched = 0;
        const source = new EventSource(url, { engine });
        for await (const event of source.events()) {
          events++;
          dataLength += event.data.length;
          touched += event.type.length + event.lastEventId.length;
          if (events === N) break; // return() closes the source
        }
        source.close(); // whatever the iterator's return() does: no reconnection in the background
        return { events, dataLength, touched };
      },
    };
  }
  // id === "batches": arrays of plain { type, data, lastEventId } records.
  if (typeof probe.batches !== "function") {
    return { label, ours: true, skip: "source.batches is not a function in dist/ (not built yet): not measured" };
  }
  return {
    label,
    ours: true,
    run: async () => {
      let events = 0;
      let dataLength = 0;
      let touched = 0;
      const source = new EventSource(url, { engine });
      outer: for await (const batch of source.batches()) {
        for (let i = 0; i < batch.length; i++) {
          const record = batch[i];
          events++;
          dataLength += record.data.length;
          touched += record.type.length + record.lastEventId.length;
          if (events === N) break outer;
        }
      }
      source.close();
      return { events, dataLength, touched };
    },
  };
}

const client = await load();
// BENCH_E2E_GC=0: no forced GC (a --cpu-prof run, whose GC figure must be the stream's own).
const gc = process.env.BENCH_E2E_GC === "0" ? undefined : /** @type {(() => void) | undefined} */ (/** @type {any} */ (globalThis).gc);
if (client.skip !== undefined || client.run === undefined) {
  process.send?.({ skip: client.skip, label: client.label, ours: client.ours });
} else {
  const run = client.run;
  process.send?.({ ready: true, label: client.label, ours: client.ours, floor: Boolean(client.floor), dist: pathToFileURL(DIST).href });
  process.on("message", async (/** @type {any} */ message) => {
    if (!message?.run) return;
    try {
      gc?.();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const tally = await run();
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (!client.floor && (tally.events !== N || tally.dataLength !== DATA_LENGTH)) {
        throw new Error(`${client.label}: ${tally.events} events / ${tally.dataLength} data chars, expected ${N} / ${DATA_LENGTH}`);
      }
      process.send?.({ ms, cpuUs: cpu.user + cpu.system, events: tally.events, dataLength: tally.dataLength, bytes: tally.bytes });
    } catch (error) {
      process.send?.({ error: String(/** @type {Error} */ (error)?.stack ?? error) });
    }
  });
}
process.on("disconnect", () => process.exit(0));
