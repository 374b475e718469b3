// The client bodies that the end-to-end benches time (bench/e2e.bench.mjs, through
// lib/e2e-client.mjs, and bench/features.bench.mjs): each reads one whole stream of `n`
// events from lib/sse-server.mjs, touches every event's type, data and last event ID as a
// user would, and returns a tally that the caller can check against the stream.

import http from "node:http";
import { createGunzip } from "node:zlib";

/** @typedef {{ events: number, dataLength: number, touched: number, bytes?: number }} Tally */

/**
 * A WHATWG-style EventSource listening for `tick`, closed at the nth one (they reconnect when
 * a stream ends, so the end of the stream cannot be the signal). An error event before that
 * rejects.
 * @param {any} source
 * @param {number} n
 * @returns {Promise<Tally>}
 */
export function listen(source, n) {
  return new Promise((resolve, reject) => {
    let events = 0;
    let dataLength = 0;
    let touched = 0;
    source.addEventListener("tick", (/** @type {MessageEvent} */ event) => {
      events++;
      dataLength += event.data.length;
      touched += event.type.length + event.lastEventId.length;
      if (events === n) {
        source.close();
        resolve({ events, dataLength, touched });
      }
    });
    source.addEventListener("error", (/** @type {any} */ event) => {
      if (events < n) {
        source.close();
        reject(new Error(`error event after ${events}/${n} events: ${event?.message ?? event?.error ?? ""}`));
      }
    });
  });
}

/**
 * Ours: `for await (const event of source.events())` up to the nth event.
 * @param {any} source
 * @param {number} n
 * @returns {Promise<Tally>}
 */
export async function iterate(source, n) {
  let events = 0;
  let dataLength = 0;
  let touched = 0;
  for await (const event of source.events()) {
    events++;
    dataLength += event.data.length;
    touched += event.type.length + event.lastEventId.length;
    if (events === n) break; // return() closes the source
  }
  source.close(); // whatever the iterator's return() does: no reconnection in the background
  return { events, dataLength, touched };
}

/**
 * Ours: `source.batches()`, arrays of plain { type, data, lastEventId } records, up to the
 * nth record.
 * @param {any} source
 * @param {number} n
 * @returns {Promise<Tally>}
 */
export async function batches(source, n) {
  let events = 0;
  let dataLength = 0;
  let touched = 0;
  outer: for await (const batch of source.batches()) {
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i];
      events++;
      dataLength += record.data.length;
      touched += record.type.length + record.lastEventId.length;
      if (events === n) break outer;
    }
  }
  source.close();
  return { events, dataLength, touched };
}

/**
 * A plain GET on node:http; `onChunk` sees every body chunk; resolves at the end. A gzip body
 * goes through `zlib.createGunzip()` as most code writes it (its default 16 KiB output chunks),
 * unless `raw` (the floor: the bytes as they came).
 * @param {string} url
 * @param {(chunk: Buffer) => void} onChunk
 * @param {boolean} [raw]
 * @returns {Promise<void>}
 */
export function get(url, onChunk, raw = false) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers: { "accept-encoding": "gzip" } }, (res) => {
        /** @type {import("node:stream").Readable} */
        let body = res;
        if (!raw && res.headers["content-encoding"] === "gzip") {
          body = res.pipe(createGunzip());
          res.on("error", reject);
        }
        body.on("data", onChunk);
        body.on("end", resolve);
        body.on("error", reject);
      })
      .on("error", reject);
  });
}

/**
 * node:http + eventsource-parser (its `createParser`), the whole stream.
 * @param {string} url
 * @param {(callbacks: { onEvent(event: { event?: string, data: string, id?: string }): void }) => { feed(text: string): void }} createParser
 * @returns {Promise<Tally>}
 */
export async function httpParser(url, createParser) {
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
  await get(url, (chunk) => parser.feed(decoder.decode(chunk, { stream: true })));
  parser.feed(decoder.decode());
  return { events, dataLength, touched };
}
