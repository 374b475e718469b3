// The message ids that make a second copy of an event harmless, and the resume point read
// back from the log: pure rules, no server.
import { describe, expect, test } from "vitest";
import { ackOf, DUPLICATE, FEED_NAME, MessageIds, REFUSED, resumePointOf, START, STORED } from "../../src/nats/message.js";
import { parseDuration, parseIngest } from "../../src/cli/ingest.js";
import { Frame } from "../../src/nats/message.js";
import { headers } from "@nats-io/transport-node";

describe("MessageIds", () => {
  test("an event with a new id: <feed>:<id>; events sharing it: <feed>+<n>:<id>", () => {
    const ids = new MessageIds("f", "s1");
    expect(["1", "2", "2", "2", "3"].map((id) => ids.next(id))).toEqual(["f:1", "f:2", "f+1:2", "f+2:2", "f:3"]);
  });

  test("after a reconnection the server resends the events after the id: those handed out are skipped", () => {
    const ids = new MessageIds("f", "s1");
    expect([ids.next("7"), ids.next("7"), ids.next("7")]).toEqual(["f:7", "f+1:7", "f+2:7"]);
    ids.reconnected("7");
    expect([ids.next("7"), ids.next("7"), ids.next("7"), ids.next("8")]).toEqual([null, null, "f+3:7", "f:8"]);
  });

  test("resumed from the log at a follower: the followers already stored are skipped", () => {
    const resume = resumePointOf("f", "f+2:7", "7");
    expect(resume).toEqual({ lastEventId: "7", followers: 2 });
    const ids = new MessageIds("f", "s1", resume);
    ids.reconnected("7");
    expect([ids.next("7"), ids.next("7"), ids.next("7")]).toEqual([null, null, "f+3:7"]);
  });

  test("ids containing the separators cannot collide with numbered followers", () => {
    const ids = new MessageIds("f", "s1");
    const out = [ids.next("2"), ids.next("2"), ids.next("+1:2"), ids.next("2:x")];
    expect(new Set(out).size).toBe(out.length);
  });

  test("events without an id: unique per session, never resumed", () => {
    const a = new MessageIds("f", "w1.aa");
    const b = new MessageIds("f", "w1.bb");
    expect([a.next(""), a.next("")]).toEqual(["f~w1.aa.1", "f~w1.aa.2"]);
    expect(b.next("")).toBe("f~w1.bb.1");
    expect(resumePointOf("f", "f~w1.aa.2", undefined)).toEqual(START);
    expect(resumePointOf("f", undefined, undefined)).toEqual(START);
    expect(resumePointOf("f", "f:9", "9")).toEqual({ lastEventId: "9", followers: 0 });
  });
});

describe("ackOf: JetStream's reply to a publish, read from its bytes", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  test.each([
    ['{"stream":"S","seq":12}', STORED],
    ['{"stream":"S","seq":12,"duplicate":true}', DUPLICATE],
    ['{"stream":"S","domain":"hub","seq":3,"duplicate":true}', DUPLICATE],
    ['{"stream":"S","seq":3,"duplicate":true,"val":"1"}', DUPLICATE],
    ['{"stream":"S","seq":3,"duplicate":false}', STORED],
    // A name cannot forge the key: its quotes are escaped.
    ['{"stream":"a,\\"duplicate\\":true","seq":3}', STORED],
    ['{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}', REFUSED],
    ['{"error":{"code":400,"description":"duplicate"},"stream":"S"}', REFUSED],
    ["", REFUSED], // the 503 status when no stream listens on the subject
    ['{"stream"', REFUSED],
  ])("%s", (reply, ack) => expect(ackOf(bytes(reply))).toBe(ack));
});

describe("ingest arguments", () => {
  test.each([
    ["500ms", 500],
    ["2s", 2000],
    ["1.5s", 1500],
    ["1m", 60_000],
    ["3", 3000],
    ["x", undefined],
    ["-1s", undefined],
  ])("duration %s", (raw, ms) => expect(parseDuration(raw)).toBe(ms));

  test("feeds, headers and defaults", () => {
    const p = parseIngest(["--stream", "S", "--subject", "s", "--feed", "a=http://h/a", "-H", "X-Key: k: v", "--lease-ttl", "2s"], FEED_NAME);
    expect(p.kind).toBe("run");
    if (p.kind !== "run") return;
    expect(p.options.feeds).toEqual([{ name: "a", url: "http://h/a" }]);
    expect(p.options.headers).toEqual({ "X-Key": "k: v" });
    expect(p.options.leaseTtl).toBe(2000);
    expect(p.options.servers).toEqual(["nats://127.0.0.1:4222"]);
  });

  test.each([
    [["--subject", "s", "--feed", "a=http://h/"], /--stream is required/],
    [["--stream", "S", "--subject", "s", "--feed", "a"], /expected <name>=<url>/],
    [["--stream", "S", "--subject", "s", "--feed", "a=ftp://h/"], /not an http\(s\) URL/],
    [["--stream", "S", "--subject", "s", "--feed", "a=http://h/", "--max-unacked", "0"], /--max-unacked/],
    [["--stream", "S", "--subject", "s", "--feed", "a=http://h/", "--lease-ttl", "soon"], /--lease-ttl/],
  ])("usage error: %j", (argv, message) => {
    const p = parseIngest(argv, FEED_NAME);
    expect(p.kind).toBe("usage-error");
    if (p.kind === "usage-error") expect(p.message).toMatch(message);
  });
});

describe("Frame: one event's header block and payload, as the client's own headers and publish make them", () => {
  // The client's way: headers().set in this order, then encode(); the payload to UTF-8.
  function client(type: string, id: string, msgId: string, data: string): [Uint8Array, Uint8Array] {
    const h = headers();
    h.set("Sse-Event", type);
    if (id !== "") h.set("Sse-Id", id);
    h.set("Nats-Msg-Id", msgId);
    // encode() is what the client's publish calls (MsgHdrsImpl; not in the MsgHdrs type).
    return [(h as unknown as { encode(): Uint8Array }).encode(), new TextEncoder().encode(data)];
  }

  const source = (type: string, lastEventId: string, msgId: string, data: string) => ({ msgId, event: { type, lastEventId, data } });

  test.each([
    ["ASCII", "tick", "42", "f:42", '{"p":1.5}'],
    ["no id", "message", "", "f~s.1", "x"],
    ["empty payload", "tick", "7", "f:7", ""],
    ["non-ASCII payload", "tick", "8", "f:8", "prix \u20ac 3 \u{1F600}"],
    ["non-ASCII id and type", "t\u00e9", "\u00e9t\u00e9", "f:\u00e9t\u00e9", "caf\u00e9"],
    ["values the client trims", " tick ", " 9 ", "f: 9 ", "d"],
    ["a lone surrogate in the payload", "tick", "1", "f:1", "a\ud800b"],
  ])("%s", (_, type, id, msgId, data) => {
    const frame = new Frame();
    frame.set(source(type, id, msgId, data));
    const [head, body] = client(type, id, msgId, data);
    expect(frame.headers.encode()).toEqual(head);
    expect(frame.data).toEqual(body);
  });

  test.each([
    ["ASCII", ["", "x", '{"p":1}']],
    ["one payload not ASCII", ["a", "caf\u00e9", "b"]],
    ["one id not ASCII", ["a", "b", "c"], "\u00e9"],
  ])("a chunk encoded at once: %s", (_, payloads, odd = "") => {
    const list = payloads.map((data, i) => source("tick", i === 1 ? `${i}${odd}` : `${i}`, `f:${i}`, data));
    const frame = new Frame();
    frame.encodeAll(list);
    list.forEach((m, i) => {
      frame.at(i, m);
      const [head, body] = client(m.event.type, m.event.lastEventId, m.msgId, m.event.data);
      expect(frame.headers.encode()).toEqual(head);
      expect(frame.data).toEqual(body);
    });
  });

  test("a chunk with a line break in one value: only that message is refused", () => {
    const list = [source("tick", "1", "f:1", "a"), source("ti\nck", "2", "f:2", "b"), source("tick", "3", "f:3", "c")];
    const frame = new Frame();
    frame.encodeAll(list);
    frame.at(0, list[0]!);
    expect(new TextDecoder().decode(frame.data)).toBe("a");
    expect(() => frame.at(1, list[1]!)).toThrow(/cannot contain/);
    frame.at(2, list[2]!);
    expect(new TextDecoder().decode(frame.headers.encode())).toContain("Nats-Msg-Id: f:3");
    expect(new TextDecoder().decode(frame.data)).toBe("c");
  });

  test("a line break in a value is refused, as the client refuses it", () => {
    expect(() => client("a\nb", "1", "f:1", "")).toThrow();
    expect(() => new Frame().set(source("a\nb", "1", "f:1", ""))).toThrow(/cannot contain/);
    expect(() => new Frame().set(source("tick", "1\r", "f:1\r", ""))).toThrow(/cannot contain/);
  });

  test("each set makes new bytes: the ones handed to an earlier publish stay as they were", () => {
    const frame = new Frame();
    frame.set(source("tick", "1", "f:1", "one"));
    const [head, body] = [frame.headers.encode(), frame.data];
    frame.set(source("tick", "2", "f:2", "two"));
    expect(new TextDecoder().decode(head)).toContain("Nats-Msg-Id: f:1");
    expect(new TextDecoder().decode(body)).toBe("one");
  });
});
