// 10,000 EventSources opened and closed, 50 at a time, closed at four different moments: in
// the first message listener, in the open listener, while the request is in flight, and right
// after the constructor. After them, a full collection must bring the heap back to where it
// was, and no descriptor, socket, timer or server-side connection may be left.
// Prints one JSON line with the figures.
//
//   node --expose-gc test/reliability/cycles.mjs [--cycles 10000] [--batch 50] [--warmup 500]
import { parseArgs } from "node:util";
import { EventSource } from "eventsource-wasm";
import { activeResources, fdCount, serverStats, settledMemory, startServer, waitFor } from "./probe.mjs";

const { values } = parseArgs({
  options: {
    cycles: { type: "string", default: "10000" },
    batch: { type: "string", default: "50" },
    warmup: { type: "string", default: "500" },
  },
});
const CYCLES = Number(values.cycles);
const BATCH = Number(values.batch);
const WARMUP = Number(values.warmup);
// Several events in one chunk, so that a close in the first listener has more to not dispatch.
const EVENTS = 3;

const server = await startServer();
const failures = [];
const closedAt = { message: 0, open: 0, inFlight: 0, constructed: 0 };

/** One open/close cycle; `i` picks the moment of the close. Resolves once closed. */
function cycle(i) {
  const source = new EventSource(`${server.url}stream?n=${EVENTS}&id=${i}`);
  let messages = 0;
  source.addEventListener("error", (e) => failures.push(`cycle ${i}: error ${e.code}: ${e.message}`));
  const check = () => {
    if (source.readyState !== EventSource.CLOSED) failures.push(`cycle ${i}: readyState ${source.readyState} after close()`);
  };
  switch (((i % 4) + 4) % 4) {
    case 0:
      return new Promise((resolve) => {
        source.addEventListener("message", (e) => {
          messages++;
          if (messages > 1) failures.push(`cycle ${i}: event ${e.data} dispatched after close()`);
          if (e.data !== `${i}:1`) failures.push(`cycle ${i}: first event ${JSON.stringify(e.data)}`);
          source.close();
          closedAt.message++;
          check();
          // Anything still dispatched from this chunk would be counted before the next turn,
          // and the rest of the chunk must not even be parsed (its ids would move lastEventId).
          setImmediate(() => {
            if (source.lastEventId !== "1") failures.push(`cycle ${i}: lastEventId ${source.lastEventId} after close()`);
            resolve();
          });
        });
      });
    case 1:
      return new Promise((resolve) => {
        source.addEventListener("message", () => failures.push(`cycle ${i}: event after close() in open`));
        source.addEventListener("open", () => {
          source.close();
          closedAt.open++;
          check();
          setImmediate(resolve);
        });
      });
    case 2:
      // The connection starts on the next tick: one turn later the request is on its way.
      return new Promise((resolve) =>
        setImmediate(() => {
          source.close();
          closedAt.inFlight++;
          check();
          resolve();
        }),
      );
    default:
      source.close();
      closedAt.constructed++;
      check();
      return Promise.resolve();
  }
}

async function run(from, count) {
  for (let i = from; i < from + count; i += BATCH) {
    const n = Math.min(BATCH, from + count - i);
    await Promise.all(Array.from({ length: n }, (_, k) => cycle(i + k)));
  }
}

/** Waits until neither side holds a connection of a closed source. */
async function quiet() {
  await waitFor("the server to see every stream closed", async () => {
    const s = await serverStats(server.url);
    return s.streams === 0 && s.sockets === 0;
  });
  await waitFor("the client's sockets to close", () => !activeResources().includes("TCPSocketWrap"));
}

await run(-WARMUP, WARMUP);
const served0 = (await serverStats(server.url)).served;
for (const k of Object.keys(closedAt)) closedAt[k] = 0;
await quiet();
const fds0 = fdCount();
const resources0 = activeResources();
const before = await settledMemory();

const started = performance.now();
await run(0, CYCLES / 2);
await quiet();
const half = await settledMemory();
await run(CYCLES / 2, CYCLES / 2);
const cyclesMs = performance.now() - started;
await quiet().catch((e) => failures.push(e.message));
const after = await settledMemory();
const fdsAfter = fdCount();
const resourcesAfter = activeResources();
// Requests that reached the server during the measured cycles.
const served = (await serverStats(server.url)).served - served0;

await server.stop();
process.stdout.write(
  `${JSON.stringify({
    cycles: CYCLES,
    batch: BATCH,
    closedAt,
    served,
    failures: failures.slice(0, 20),
    failureCount: failures.length,
    cyclesMs: Math.round(cyclesMs),
    fds: { before: fds0, after: fdsAfter },
    resources: { before: resources0, after: resourcesAfter },
    heapGrowth: { half: half.heapUsed - before.heapUsed, end: after.heapUsed - before.heapUsed },
    memory: { before, half, after },
  })}\n`,
);
