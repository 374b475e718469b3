// The e2e bench's server, run in a child process (so its CPU is not the client's):
// serves a fixed market-ticks stream of N events on 127.0.0.1, then ends the response.
//
//   fork("bench/lib/sse-server.mjs", [String(events)]) -> message { port, bytes, events, dataLength }

import { createServer } from "node:http";
import { marketTicks, cutChunks } from "../fixtures.mjs";

const events = Number(process.argv[2]);
if (!(events > 0)) throw new Error("usage: sse-server.mjs <events>");
const corpus = marketTicks({ events });
// Written in 64 KiB pieces, waiting for drain: what a fast real server does.
const pieces = cutChunks(corpus.bytes, 64 * 1024);

const server = createServer((req, res) => {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-store",
  }); // chunked, like a live feed
  let i = 0;
  const pump = () => {
    while (i < pieces.length) {
      if (!res.write(pieces[i++])) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  req.socket.setNoDelay(true);
  pump();
});
server.keepAliveTimeout = 1000;
server.listen(0, "127.0.0.1", () => {
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  process.send?.({ port: address.port, bytes: corpus.bytes.length, events: corpus.events, dataLength: corpus.dataLength });
});
process.on("disconnect", () => process.exit(0));
