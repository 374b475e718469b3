// The judge of the parser tests: the WHATWG "event stream interpretation" written as plainly as
// possible over the whole stream, decoded first, exactly as the spec orders it. Slow on
// purpose; no cleverness that the engines share. The only thing the spec lacks,
// maxEventSize (docs/PARSER.md), needs raw byte lengths, which are read from the undecoded
// lines: delimiters are ASCII, so line i of the text is line i of the bytes.

export type Output =
  | { kind: "event"; type: string; data: string; lastEventId: string }
  | { kind: "retry"; ms: number }
  | { kind: "comment"; text: string }
  | { kind: "error"; code: string };

export interface OracleResult {
  outputs: Output[];
  lastEventId: string;
}

function splitLines<T extends { length: number }>(
  units: ArrayLike<number>,
  slice: (start: number, end: number) => T,
  cr: number,
  lf: number,
): T[] {
  // "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF)
  // character pair, a single U+000A LINE FEED (LF) character, or a single U+000D CARRIAGE
  // RETURN (CR) character." Whatever follows the last line end is not a line: "If the file
  // ends in the middle of an event, before the final empty line, the incomplete event is not
  // dispatched."
  const lines: T[] = [];
  let start = 0;
  for (let i = 0; i < units.length; i++) {
    if (units[i] === cr) {
      lines.push(slice(start, i));
      if (units[i + 1] === lf) i++;
      start = i + 1;
    } else if (units[i] === lf) {
      lines.push(slice(start, i));
      start = i + 1;
    }
  }
  return lines;
}

export function oracleParse(
  input: Uint8Array,
  options: { maxEventSize?: number; lastEventId?: string } = {},
): OracleResult {
  const maxEventSize = options.maxEventSize ?? Infinity;
  // "Streams must be decoded using the UTF-8 decode algorithm": replacement characters for
  // bad bytes, and one leading BOM removed.
  const text = new TextDecoder("utf-8").decode(input);
  const hasBom = input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf;
  const raw = hasBom ? input.subarray(3) : input;

  const codes = Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
  const lines = splitLines(codes, (s, e) => text.slice(s, e), 13, 10);
  const rawLines = splitLines(raw, (s, e) => raw.subarray(s, e), 13, 10);
  if (lines.length !== rawLines.length) throw new Error("oracle: line split mismatch");

  const outputs: Output[] = [];
  let data = ""; // the spec's data buffer, LFs included
  let dataBytes = 0;
  let eventType = "";
  let eventTypeBytes = 0;
  let lastEventIdBuffer = options.lastEventId ?? "";
  let lastEventIdString = lastEventIdBuffer;
  let discarding = false;

  lines.forEach((line, index) => {
    const lineBytes = rawLines[index]!.length;
    if (discarding) {
      if (lineBytes > maxEventSize) return;
    } else if (dataBytes + eventTypeBytes + lineBytes > maxEventSize) {
      outputs.push({ kind: "error", code: "EVENT_TOO_LARGE" });
      discarding = true;
      data = "";
      dataBytes = 0;
      eventType = "";
      eventTypeBytes = 0;
      return;
    }

    if (line === "") {
      // Dispatch the event.
      lastEventIdString = lastEventIdBuffer;
      if (discarding) {
        discarding = false;
        return;
      }
      if (data === "") {
        eventType = "";
        eventTypeBytes = 0;
        return;
      }
      if (data.endsWith("\n")) data = data.slice(0, -1);
      outputs.push({
        kind: "event",
        type: eventType === "" ? "message" : eventType,
        data,
        lastEventId: lastEventIdString,
      });
      data = "";
      dataBytes = 0;
      eventType = "";
      eventTypeBytes = 0;
      return;
    }
    if (line.startsWith(":")) {
      const text = line.slice(1);
      outputs.push({ kind: "comment", text: text.startsWith(" ") ? text.slice(1) : text });
      return;
    }
    let field: string;
    let value: string;
    const colon = line.indexOf(":");
    if (colon !== -1) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
    } else {
      field = line;
      value = "";
    }
    // Only the known fields are ASCII names, so for them the bytes before the value are as
    // many as the chars: the value's byte length is the line's minus that prefix.
    const valueBytes = lineBytes - (line.length - value.length);
    if (field === "event") {
      if (discarding) return;
      eventType = value;
      eventTypeBytes = valueBytes;
    } else if (field === "data") {
      if (discarding) return;
      data += value + "\n";
      dataBytes += valueBytes + 1;
    } else if (field === "id") {
      if (!value.includes("\0")) lastEventIdBuffer = value;
    } else if (field === "retry") {
      if (/^[0-9]+$/.test(value)) outputs.push({ kind: "retry", ms: Number(value) });
    }
  });
  // The unfinished last line is never processed, but it was held in memory while the stream
  // waited for its end, so it still counts against the bound (docs/PARSER.md).
  const lastEnd = Math.max(raw.lastIndexOf(10), raw.lastIndexOf(13));
  // Exception: a stream that is only the first bytes of a BOM has no line yet.
  const bomPrefix = input.length < 3 && input.every((byte, i) => byte === [0xef, 0xbb][i]);
  const tailBytes = bomPrefix ? 0 : raw.length - (lastEnd + 1);
  if (!discarding && dataBytes + eventTypeBytes + tailBytes > maxEventSize) {
    outputs.push({ kind: "error", code: "EVENT_TOO_LARGE" });
  }
  return { outputs, lastEventId: lastEventIdString };
}
