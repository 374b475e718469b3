// Named cases, one per rule of the spec's event stream interpretation (and of docs/PARSER.md
// for maxEventSize). Expectations are written by hand from the spec text, so they also judge
// the oracle. Many come from the spec's own examples and from WPT's eventsource/format-*.
import type { Output } from "./oracle.js";

export interface SpecCase {
  name: string;
  input: string | number[];
  options?: { maxEventSize?: number; lastEventId?: string };
  expected: Output[];
  /** The last event ID string after the stream, when the case is about it. */
  lastEventId?: string;
}

const ev = (data: string, type = "message", lastEventId = ""): Output => ({
  kind: "event",
  type,
  data,
  lastEventId,
});
const bytes = (s: string): number[] => Array.from(new TextEncoder().encode(s));
const TOO_LARGE: Output = { kind: "error", code: "EVENT_TOO_LARGE" };

export const specCases: SpecCase[] = [
  { name: "one data line, LF", input: "data: hello\n\n", expected: [ev("hello")] },
  { name: "line ends: CRLF", input: "data: a\r\n\r\n", expected: [ev("a")] },
  { name: "line ends: lone CR", input: "data: a\r\rdata: b\r\r", expected: [ev("a"), ev("b")] },
  { name: "line ends: mixed", input: "data: a\r\ndata: b\rdata: c\n\r\n", expected: [ev("a\nb\nc")] },
  { name: "CR LF is one line end, LF CR is two", input: "data: a\n\rdata: b\n\n", expected: [ev("a"), ev("b")] },
  { name: "multiple data lines joined with LF", input: "data: YHOO\ndata: +2\ndata: 10\n\n", expected: [ev("YHOO\n+2\n10")] },
  { name: "only the last LF of the data buffer is removed", input: "data\ndata\n\n", expected: [ev("\n")] },
  { name: "data with empty value still dispatches", input: "data:\n\n", expected: [ev("")] },
  { name: "field with no colon is a name with empty value", input: "data\n\n", expected: [ev("")] },
  { name: "only one leading space removed", input: "data:  two\n\n", expected: [ev(" two")] },
  { name: "no space after colon", input: "data:x\n\n", expected: [ev("x")] },
  { name: "value keeps trailing spaces and later colons", input: "data: a: b \n\n", expected: [ev("a: b ")] },
  { name: "event sets the type", input: "event: add\ndata: 73857293\n\n", expected: [ev("73857293", "add")] },
  { name: "event type resets after each dispatch", input: "event: a\ndata: 1\n\ndata: 2\n\n", expected: [ev("1", "a"), ev("2")] },
  { name: "empty event value means message", input: "event: a\nevent:\ndata: 1\n\n", expected: [ev("1")] },
  { name: "event type of an event with no data is dropped", input: "event: a\n\ndata: 1\n\n", expected: [ev("1")] },
  { name: "field names are case-sensitive", input: "Data: x\nDATA: y\nEvent: e\ndata: z\n\n", expected: [ev("z")] },
  { name: "field name with a space before the colon is unknown", input: "data : x\ndata: y\n\n", expected: [ev("y")] },
  { name: "unknown fields ignored", input: "foo: bar\ndatax: y\ndata: z\nretryx: 5\n\n", expected: [ev("z")] },
  { name: "comments ignored by dispatch, reported", input: ": hi\n:no-space\ndata: x\n: \n\n", expected: [{ kind: "comment", text: "hi" }, { kind: "comment", text: "no-space" }, { kind: "comment", text: "" }, ev("x")] },
  { name: "no data means no dispatch", input: "event: x\n\n\n\n", expected: [] },
  { name: "unfinished event at end is discarded", input: "data: a\n\ndata: b\n", expected: [ev("a")] },
  { name: "unfinished line at end is discarded", input: "data: a\n\ndata: b", expected: [ev("a")] },
  { name: "id sets lastEventId of the event", input: "id: 1\ndata: a\n\n", expected: [ev("a", "message", "1")], lastEventId: "1" },
  { name: "last event id persists across events", input: "id: 7\ndata: a\n\ndata: b\n\n", expected: [ev("a", "message", "7"), ev("b", "message", "7")], lastEventId: "7" },
  { name: "empty id resets the last event id", input: "id: 7\ndata: a\n\nid\ndata: b\n\n", expected: [ev("a", "message", "7"), ev("b", "message", "")], lastEventId: "" },
  { name: "id containing NUL is ignored", input: "id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n", expected: [ev("a", "message", "1"), ev("b", "message", "1")], lastEventId: "1" },
  { name: "id-only block sets lastEventId without dispatching", input: "id: 5\n\n", expected: [], lastEventId: "5" },
  { name: "id takes effect only at the blank line", input: "id: 5\ndata: x\n", expected: [], lastEventId: "" },
  { name: "id applies to the event it is in, wherever the line is", input: "data: a\nid: 9\n\n", expected: [ev("a", "message", "9")], lastEventId: "9" },
  { name: "lastEventId option seeds the id", input: "data: a\n\n", options: { lastEventId: "41" }, expected: [ev("a", "message", "41")], lastEventId: "41" },
  { name: "retry with digits", input: "retry: 1500\ndata: a\n\n", expected: [{ kind: "retry", ms: 1500 }, ev("a")] },
  { name: "retry takes effect at its line, before the dispatch", input: "data: a\nretry: 10\n\n", expected: [{ kind: "retry", ms: 10 }, ev("a")] },
  { name: "retry with non-digits ignored", input: "retry: 1.5\nretry: -1\nretry: 1e3\nretry:  10\nretry: 12a\n\n", expected: [] },
  { name: "retry with empty value ignored", input: "retry\nretry:\n\n", expected: [] },
  { name: "retry with leading zeros", input: "retry: 0010\n", expected: [{ kind: "retry", ms: 10 }] },
  { name: "leading BOM stripped", input: "\ufeffdata: a\n\n", expected: [ev("a")] },
  { name: "second BOM is not stripped", input: "\ufeff\ufeffdata: a\n\ndata: b\n\n", expected: [ev("b")] },
  { name: "BOM inside a value is data", input: "data: \ufeffa\n\n", expected: [ev("\ufeffa")] },
  { name: "BOM-like bytes that are not a full BOM are data", input: [0xef, 0xbb, 0x0a, ...bytes("data: a\n\n")], expected: [ev("a")] },
  { name: "partial BOM at the start makes the first line unknown", input: [0xef, 0xbb, 0x64, ...bytes("ata: a\n\ndata: b\n\n")], expected: [ev("b")] },
  { name: "multi-byte UTF-8", input: "data: héllo 価格 😀\n\n", expected: [ev("héllo 価格 😀")] },
  { name: "invalid UTF-8 becomes U+FFFD", input: [...bytes("data: a"), 0xff, 0xc3, ...bytes("b"), 0xe2, 0x82, ...bytes("\n\n")], expected: [ev("a\ufffd\ufffdb\ufffd")] },
  { name: "truncated 4-byte sequence is one U+FFFD", input: [...bytes("data: "), 0xf0, 0x9f, 0x98, ...bytes("\n\n")], expected: [ev("\ufffd")] },
  { name: "surrogate code points in UTF-8 are invalid", input: [...bytes("data: "), 0xed, 0xa0, 0x80, ...bytes("\n\n")], expected: [ev("\ufffd\ufffd\ufffd")] },
  { name: "invalid byte in the event type", input: [...bytes("event: t"), 0x80, ...bytes("\ndata: x\n\n")], expected: [ev("x", "t\ufffd")] },
  { name: "NUL in data is kept", input: "data: a\u0000b\n\n", expected: [ev("a\u0000b")] },
  { name: "spec example: stock ticks", input: "data: YHOO\ndata: +2\ndata: 10\n\n", expected: [ev("YHOO\n+2\n10")] },
  {
    name: "spec example: four blocks",
    input: ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n",
    expected: [{ kind: "comment", text: "test stream" }, ev("first event", "message", "1"), ev("second event", "message", "")],
    lastEventId: "",
  },
  { name: "spec example: two events with empty data", input: "data\n\ndata\ndata\n\ndata:", expected: [ev(""), ev("\n")] },
  { name: "spec example: space after colon", input: "data:test\n\ndata: test\n\n", expected: [ev("test"), ev("test")] },
  { name: "maxEventSize: event within the bound dispatches", input: "data: 12345\n\n", options: { maxEventSize: 11 }, expected: [ev("12345")] },
  { name: "maxEventSize: one line over the bound", input: "data: 123456\n\ndata: ok\n\n", options: { maxEventSize: 11 }, expected: [TOO_LARGE, ev("ok")] },
  { name: "maxEventSize: data lines adding up over the bound", input: "data: 1234\ndata: 1234\ndata: 1234\n\ndata: ok\n\n", options: { maxEventSize: 16 }, expected: [TOO_LARGE, ev("ok")] },
  { name: "maxEventSize: event type counts", input: "event: abcdefgh\ndata: 1234\n\n", options: { maxEventSize: 16 }, expected: [TOO_LARGE] },
  { name: "maxEventSize: one error per event, id still applies", input: "data: 1234567890\nid: 3\ndata: 1234567890\n\ndata: ok\n\n", options: { maxEventSize: 12 }, expected: [TOO_LARGE, ev("ok", "message", "3")], lastEventId: "3" },
  { name: "maxEventSize: retry still read while discarding", input: "data: 1234567890\nretry: 5\n\n", options: { maxEventSize: 12 }, expected: [TOO_LARGE, { kind: "retry", ms: 5 }] },
  { name: "maxEventSize: overlong comment line", input: ": 0123456789\ndata: a\n\n", options: { maxEventSize: 8 }, expected: [TOO_LARGE] },
];
