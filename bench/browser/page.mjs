// The browser parse bench's page (bundled by bench/browser-parse.mjs with esbuild): parses the
// corpora it is served with our engines and eventsource-parser, in turns, and posts each
// implementation's per-pass times back to the server that served it.

// "eventsource-wasm" is dist/web.js, or the build that --dist names.
import { createParser } from "eventsource-wasm";
import { createParser as createEventsourceParser } from "eventsource-parser";

/** One whole stream, as bench/lib/impls.mjs runs it: every event's type, data and id read. */
function ours(engine) {
  return (chunks) => {
    let events = 0;
    let touched = 0;
    const parser = createParser(
      {
        onEvent(event) {
          events++;
          touched += event.data.length + event.type.length + event.lastEventId.length;
        },
      },
      { engine },
    );
    if (parser.engine !== engine) throw new Error(`engine ${engine} is not available here (got ${parser.engine})`);
    for (let i = 0; i < chunks.length; i++) parser.feed(chunks[i]);
    parser.end();
    return events + 0 * touched;
  };
}

function eventsourceParser(chunks) {
  let events = 0;
  let touched = 0;
  const decoder = new TextDecoder();
  const parser = createEventsourceParser({
    onEvent(event) {
      events++;
      touched += event.data.length + (event.event ?? "message").length + (event.id ?? "").length;
    },
  });
  for (let i = 0; i < chunks.length; i++) parser.feed(decoder.decode(chunks[i], { stream: true }));
  parser.feed(decoder.decode());
  return events + 0 * touched;
}

const IMPLS = { js: ours("js"), wasm: ours("wasm"), "eventsource-parser": eventsourceParser };

const cut = (bytes, size) => {
  const chunks = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// Lets the page stay responsive (and a stuck run visible) between turns.
const tick = () => new Promise((ok) => setTimeout(ok, 0));

async function run() {
  const plan = await (await fetch("/plan")).json();
  const results = [];
  for (const { workload, events } of plan.workloads) {
    const bytes = new Uint8Array(await (await fetch(`/corpus/${workload}`)).arrayBuffer());
    for (const chunk of plan.chunks) {
      const chunks = cut(bytes, chunk);
      const times = Object.fromEntries(plan.impls.map((id) => [id, []]));
      const pass = (id) => {
        const got = IMPLS[id](chunks);
        if (got !== events) throw new Error(`${id}: ${got} events on ${workload}, expected ${events}`);
      };
      for (const id of plan.impls) for (let i = 0; i < plan.warmup; i++) pass(id);
      // Turns: each implementation in turn, so that a slow spell of the machine hits all.
      for (let turn = 0; turn < plan.turns; turn++) {
        for (const id of plan.impls) {
          // As many passes as fill minMs, timed together (Firefox and WebKit coarsen
          // performance.now()). With --cpu the server reads the CPU time that the page's
          // process spent on them (see browser-parse.mjs).
          if (plan.cpu) await fetch("/cpu", { method: "POST" });
          let n = 0;
          const t0 = performance.now();
          let t = t0;
          do {
            pass(id);
            n++;
            t = performance.now();
          } while (t - t0 < plan.minMs);
          const ms = plan.cpu ? Number(await (await fetch("/cpu", { method: "POST" })).text()) : t - t0;
          times[id].push(ms / n);
          await tick();
        }
      }
      for (const id of plan.impls) {
        results.push({ workload, chunk, impl: id, msPerPass: median(times[id]), turns: times[id], mib: bytes.length / 1048576 });
      }
    }
  }
  return results;
}

run().then(
  (results) => fetch("/results", { method: "POST", body: JSON.stringify({ ok: true, userAgent: navigator.userAgent, results }) }),
  (error) => fetch("/results", { method: "POST", body: JSON.stringify({ ok: false, error: String(error?.stack ?? error) }) }),
);
