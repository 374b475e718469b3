/**
 * For the record/replay tests: a stream's writes with what the parser must get right (BOM,
 * CRLF, a lone CR, a character cut between two writes, ids, retry), a server-side writer that
 * keeps them apart in time, and in-process I/O for `runRecord` / `runReplay`.
 */
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { createParser } from "../../src/parser/index.js";

const cutAt = (b: Buffer, at: number): Buffer[] => [b.subarray(0, at), b.subarray(at)];

export const WRITES: readonly Buffer[] = [
  Buffer.from("\uFEFFretry: 1500\r\n: hello\r\n\r\n"),
  Buffer.from("id: 1\r\nevent: tick\r\ndata: h\u00e9llo w\u00f6rld \u2713\r\n\r\n"),
  // Cut inside the three bytes of U+65E5.
  ...cutAt(Buffer.from("id: 2\ndata: line one\ndata: \u65e5\u672c\n\n"), "id: 2\ndata: line one\ndata: ".length + 1),
  Buffer.from("data: no id, keeps 2\r\rid:\r"),
  Buffer.from("data: id reset\n\nevent: end\ndata: \u{1F389}\n\n"),
];

/** The events in WRITES, as the spec reads them. */
export const WRITES_EVENTS = [
  { type: "tick", data: "h\u00e9llo w\u00f6rld \u2713", lastEventId: "1" },
  { type: "message", data: "line one\n\u65e5\u672c", lastEventId: "2" },
  { type: "message", data: "no id, keeps 2", lastEventId: "2" },
  { type: "message", data: "id reset", lastEventId: "" },
  { type: "end", data: "\u{1F389}", lastEventId: "" },
];

/**
 * Writes `writes` one by one, `gap` ms apart. Each timer is armed after the write before, so
 * a stalled process still sends them in separate turns of the event loop, and a client in
 * this process reads each alone.
 */
export function writeSlowly(res: ServerResponse, writes: readonly Uint8Array[], gap: number, end = true): void {
  let i = 0;
  const next = (): void => {
    if (res.destroyed) return;
    if (i === writes.length) {
      if (end) res.end();
      return;
    }
    res.write(writes[i++]);
    setTimeout(next, gap);
  };
  next();
}

/** stdout, stderr and the signals of a command run in process. */
export function commandIo() {
  let stdout = "";
  let stderr = "";
  const signals = new EventEmitter();
  return {
    io: {
      stdout: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
      signals,
    },
    signals,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

export interface SimpleEvent {
  type: string;
  data: string;
  lastEventId: string;
}

/** The events in a byte stream cut into these chunks. */
export function eventsOf(chunks: readonly Uint8Array[]): SimpleEvent[] {
  const events: SimpleEvent[] = [];
  const p = createParser({ onEvent: (e) => events.push({ type: e.type, data: e.data, lastEventId: e.lastEventId }) });
  for (const c of chunks) p.feed(c);
  p.end();
  return events;
}
