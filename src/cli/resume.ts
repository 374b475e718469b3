// Where to resume from, printed when a run that printed events ends (whatever the reason), so
// that a person or a wrapper script can go on without losing or repeating an event:
//
//   last event id: 1234
//   resume with: eventsource-wasm --last-event-id 1234 --event tick http://localhost:8080/feed
//
// The id is the one of the last event written to stdout, not the source's: events the source
// had read but not yet printed (the rest of a chunk after --count, a signal) are resent.

import { parseArgs } from "node:util";
import { CLI_OPTIONS } from "./args.js";

const COMMAND = "eventsource-wasm";

/** Headers whose values are secrets: shown as *** in the resume line, as in a log. */
const SECRET_HEADER = /^\s*(authorization|proxy-authorization|cookie)\s*:/i;

/** POSIX shell quoting: as is when only safe characters, else in single quotes. */
export function shellQuote(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, "'\\''")}'`;
}

/** A URL's password as ***: the resume line goes to stderr, which may be a shared log. */
function redactUrl(raw: string): string {
  const at = raw.indexOf("@");
  const scheme = raw.indexOf("://");
  if (at < 0) return raw;
  const userinfo = raw.slice(scheme < 0 ? 0 : scheme + 3, at);
  // Only a password is a secret; an "@" in the path or query is not userinfo.
  if (userinfo.includes("/") || userinfo.includes("?") || userinfo.includes("#") || !userinfo.includes(":")) return raw;
  const start = (scheme < 0 ? 0 : scheme + 3) + userinfo.indexOf(":") + 1;
  return `${raw.slice(0, start)}***${raw.slice(at)}`;
}

/**
 * The command line that goes on from `lastEventId`: the arguments the run was given, in their
 * order, without a --last-event-id of their own, and with secrets (URL and proxy passwords,
 * Authorization and Cookie headers) shown as ***.
 */
export function resumeCommand(argv: readonly string[], lastEventId: string): string {
  const { tokens } = parseArgs({ args: [...argv], allowPositionals: true, strict: false, tokens: true, options: CLI_OPTIONS });
  // A value that starts with "-" would read as an option on its own.
  const args = lastEventId.startsWith("-") ? [`--last-event-id=${lastEventId}`] : ["--last-event-id", lastEventId];
  for (const token of tokens) {
    if (token.kind === "option-terminator") args.push("--");
    else if (token.kind === "positional") args.push(redactUrl(token.value));
    else if (token.name !== "last-event-id") {
      let value = token.value;
      if (value !== undefined && token.name === "header" && SECRET_HEADER.test(value)) value = `${value.slice(0, value.indexOf(":") + 1)} ***`;
      if (value !== undefined && token.name === "proxy") value = redactUrl(value);
      if (value === undefined) args.push(token.rawName);
      // As the user wrote it: "--name=value", "-Hvalue", or the value as the next argument.
      else if (token.inlineValue) args.push(`${token.rawName}${token.rawName.startsWith("--") ? "=" : ""}${value}`);
      else args.push(token.rawName, value);
    }
  }
  return [COMMAND, ...args].map(shellQuote).join(" ");
}

/**
 * The lines for stderr once a run that printed events has ended: none when the last of them
 * had no id (a stream without ids cannot be resumed; the request would start it over).
 */
export function resumeLines(argv: readonly string[], lastEventId: string): string[] {
  if (lastEventId === "") return [];
  return [`last event id: ${lastEventId}`, `resume with: ${resumeCommand(argv, lastEventId)}`];
}
