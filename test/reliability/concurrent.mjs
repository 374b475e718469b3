// 1,000 EventSources open at once in this process against a server in another: each must get
// all its events exactly once and in order, and closing them all must give back every socket,
// on both sides. Prints one JSON line with the figures (memory per open source included).
//
//   node --expose-gc test/reliability/concurrent.mjs [--sources 1000] [--events 20]
import { parseArgs } from "node:util";
import { EventSource } from "eventsource-wasm";
import { activeResources, fdCount, fdLimit, serverStats, settledMemory, startServer, waitFor } from "./probe.mjs";

const { values } = parseArgs({
  options: { sources: { type: "string", default: "1000" }, events: { type: "string", default: "20" } },
});
const SOURCES = Number(values.sources);
const EVENTS = Number(values.events);

const limit = fdLimit();
if (limit !== null && limit < SOURCES + 100) {
  throw new Error(`${SOURCES} sources need ${SOURCES + 100} file descriptors; the limit is ${limit} (ulimit -n)`);
}

const server = await startServer();
const failures = [];

/** Opens one source on its own stream; resolves when it has `EVENTS` events (checked as they come). */
function open(k) {
  const source = new EventSource(`${server.url}stream?n=${EVENTS}&id=${k}`);
  let next = 1;
  const done = new Promise((resolve) => {
    source.addEventListener("message", (e) => {
      const expected = `${k}:${next}`;
      if (e.data !== expected || e.lastEventId !== String(next)) {
        failures.push(`source ${k}: got ${JSON.stringify(e.data)} (id ${e.lastEventId}), expected ${expected}`);
      }
      next++;
      if (next > EVENTS) resolve();
    });
  });
  source.addEventListener("error", (e) => failures.push(`source ${k}: error ${e.code}: ${e.message}`));
  return { source, done, received: () => next - 1 };
}

// One source opened and closed first, so that what every source shares (the module, the WASM
// instance, the agent, compiled code) is in the baseline and not counted per source.
{
  const warm = open(-1);
  await warm.done;
  warm.source.close();
  await waitFor("the warm-up stream to close on the server", async () => (await serverStats(server.url)).streams === 0);
  await waitFor("the warm-up sockets to close", () => !activeResources().includes("TCPSocketWrap"));
}
const fds0 = fdCount();
const resources0 = activeResources();
const before = await settledMemory();

const started = performance.now();
const all = Array.from({ length: SOURCES }, (_, k) => open(k));
await Promise.race([
  Promise.all(all.map((s) => s.done)),
  new Promise((_, reject) => setTimeout(() => reject(new Error(`not every source got its events: ${failures.slice(0, 3)}`)), 60_000).unref()),
]);
const allReceivedMs = performance.now() - started;
// A repeated event would arrive after the last expected one: give it time to show up.
await new Promise((r) => setTimeout(r, 300));
const opened = await settledMemory();
const fdsOpen = fdCount();
const serverOpen = await serverStats(server.url);

const received = all.reduce((n, s) => n + s.received(), 0);
const notOpen = all.filter((s) => s.source.readyState !== EventSource.OPEN).length;
const connections = all.reduce((n, s) => n + s.source.stats.connections, 0);

for (const s of all) s.source.close();
let serverClosed = null;
await waitFor("the server to see every stream closed", async () => {
  serverClosed = await serverStats(server.url);
  return serverClosed.streams === 0 && serverClosed.sockets === 0;
}).catch((e) => failures.push(e.message));
await waitFor("the descriptors to come back", () => fdCount() <= fds0).catch((e) => failures.push(e.message));
const closed = await settledMemory();
const resourcesAfter = activeResources();
all.length = 0;

await server.stop();
const perSource = (a, b, key) => Math.round((b[key] - a[key]) / SOURCES);
process.stdout.write(
  `${JSON.stringify({
    sources: SOURCES,
    eventsPerSource: EVENTS,
    received,
    notOpen,
    connections,
    failures: failures.slice(0, 20),
    failureCount: failures.length,
    allReceivedMs: Math.round(allReceivedMs),
    fds: { before: fds0, open: fdsOpen, closed: fdCount(), limit },
    server: { open: serverOpen, closed: serverClosed },
    perOpenSource: {
      rss: perSource(before, opened, "rss"),
      heapUsed: perSource(before, opened, "heapUsed"),
      external: perSource(before, opened, "external"),
    },
    memory: { before, opened, closed },
    resources: { before: resources0, after: resourcesAfter },
  })}\n`,
);
