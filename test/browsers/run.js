// One source of a browser-suite case, run the same way in a page and in a worker: the
// browser's own EventSource or ours (dist/browser.js, as the package ships it to pages), its
// events and errors recorded until the stream says `end` or the variant's deadline passes.
import { EventSource as Ours } from "/dist/browser.js";

const TYPES = ["message", "tick", "end"];

/**
 * `v`: { key, impl: "native" | "ours", url, init, deadline, cutAfter }. `cutAfter`: after
 * that many events, ask the page server to cut the feed's connection (a drop mid-stream).
 */
export function runVariant(v) {
  return new Promise((resolve) => {
    const out = { events: [], errors: [], opens: 0, timedOut: false };
    const Impl = v.impl === "native" ? globalThis.EventSource : Ours;
    if (typeof Impl !== "function") return resolve({ ...out, unavailable: true });
    let source;
    try {
      source = new Impl(v.url, v.init);
    } catch (error) {
      return resolve({ ...out, thrown: String(error) });
    }
    if (v.impl === "ours") out.engine = source.engine;
    out.withCredentials = source.withCredentials;
    const timer = setTimeout(() => finish(true), v.deadline);
    function finish(timedOut) {
      clearTimeout(timer);
      source.close();
      out.timedOut = timedOut;
      resolve(out);
    }
    source.addEventListener("open", () => out.opens++);
    source.addEventListener("error", (e) => out.errors.push(e.code ?? "error"));
    for (const type of TYPES) {
      source.addEventListener(type, (e) => {
        out.events.push([e.type, e.data, e.lastEventId, e.origin]);
        if (out.events.length === v.cutAfter) void fetch(`/cut?k=${encodeURIComponent(v.key)}`);
        if (e.type === "end") finish(false);
      });
    }
  });
}
