// The server side of the reliability tests, run in its own process so that the client's
// memory and file descriptors are measured alone (1,000 sockets at both ends in one process
// would also be ~2,000 descriptors).
//
//   node test/reliability/sse-server.mjs      prints {"port":N} on its first stdout line
//
// GET /stream?n=N&id=K   N events "id: i / data: K:i" (i = 1..N), then the response stays open
// GET /stats             {"streams":open event streams,"sockets":open sockets but this one,...}
//
// It exits when its stdin ends, so it cannot outlive the test that started it.
import { createServer } from "node:http";

const sockets = new Set();
let streams = 0;
let served = 0;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (url.pathname === "/stats") {
    const others = [...sockets].filter((s) => s !== req.socket).length;
    res.writeHead(200, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ streams, sockets: others, served }));
    return;
  }
  if (url.pathname !== "/stream") {
    res.writeHead(404).end();
    return;
  }
  const n = Number(url.searchParams.get("n") ?? 1);
  const id = url.searchParams.get("id") ?? "0";
  served++;
  streams++;
  res.on("close", () => streams--);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
  let body = "";
  for (let i = 1; i <= n; i++) body += `id: ${i}\ndata: ${id}:${i}\n\n`;
  res.write(body);
});
server.on("connection", (socket) => {
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
});
// The default backlog (511) can overflow when 1,000 clients connect at once, and a dropped SYN
// costs a 1 s retransmission.
server.listen(0, "127.0.0.1", 4096, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
