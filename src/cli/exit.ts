// How a run ends: the exit statuses of every command (`eventsource-wasm <url>`, `ingest`,
// `record`, `replay`), and the failure of a source turned into a status and one line
// on stderr. Pure: no stream is written here, so every mapping can be tested in process.

import { STATUS_CODES } from "node:http";
import type { EventSourceErrorCode } from "../index.js";

/** Exit statuses, one per way a run ends (listed in --help and docs/cli.md). */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  HTTP_STATUS: 3,
  CONTENT_TYPE: 4,
  RETRIES: 5,
  TLS: 6,
  REDIRECT: 7,
  // 128 + the signal number, as shells report a process a signal ended.
  SIGINT: 130,
  SIGTERM: 143,
} as const;

/**
 * The status for each error code when it ends a run. A Record, so that a code added to the
 * library does not compile until it has a status here. Most codes never end a run (the source
 * reconnects after them, or goes on), but a user's reconnect policy could make any final.
 */
const EXIT_BY_CODE: Readonly<Record<EventSourceErrorCode, number>> = {
  HTTP_STATUS: EXIT.HTTP_STATUS,
  BAD_CONTENT_TYPE: EXIT.CONTENT_TYPE,
  MAX_ATTEMPTS: EXIT.RETRIES,
  TOO_MANY_REDIRECTS: EXIT.REDIRECT,
  BAD_REDIRECT: EXIT.REDIRECT,
  NETWORK: EXIT.FAILED,
  STREAM_ENDED: EXIT.FAILED,
  IDLE_TIMEOUT: EXIT.FAILED,
  EVENT_TIMEOUT: EXIT.FAILED,
  TLS: EXIT.TLS,
  CONTENT_ENCODING: EXIT.FAILED,
  EVENT_TOO_LARGE: EXIT.FAILED,
  HEADERS: EXIT.FAILED,
  ABORTED: EXIT.FAILED,
  UNREADABLE_BODY: EXIT.FAILED,
  LAST_EVENT_ID_NOT_SENT: EXIT.FAILED,
};

/** The fields of an EventSourceErrorEvent / EventSourceError that the messages use. */
export interface ErrorFields {
  message?: string;
  code?: string;
  status?: number | undefined;
  statusText?: string | undefined;
  headers?: { get(name: string): string | null } | undefined;
  cause?: unknown;
  attempts?: number | undefined;
}

/** A thrown value as one line: an Error's message with its code (ECONNREFUSED...). */
export function causeText(cause: unknown): string | undefined {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
  }
  return cause === undefined ? undefined : String(cause);
}

/** One line saying why the stream failed, for people and for scripts that grep stderr. */
export function describeError(e: ErrorFields): string {
  switch (e.code) {
    case "HTTP_STATUS":
      if (e.status !== undefined) return `HTTP ${e.status} ${e.statusText || STATUS_CODES[e.status] || ""}`.trimEnd();
      break;
    case "BAD_CONTENT_TYPE": {
      const got = e.headers?.get("content-type") ?? undefined;
      if (got !== undefined || !e.message) return `expected text/event-stream, got ${got || "no content type"}`;
      break;
    }
    case "IDLE_TIMEOUT":
      return e.message || "no data received within the idle timeout";
    case "MAX_ATTEMPTS": {
      // The cause is the last failure, itself an EventSourceError: say what it was first.
      const last = e.cause && typeof e.cause === "object" ? describeError(e.cause as ErrorFields) : undefined;
      const n = e.attempts;
      if (last === undefined || n === undefined) break;
      // The CLI sets maxAttempts only from --retries.
      return n === 0
        ? `${last} (no reconnection: --retries 0)`
        : `${last} (gave up after ${n} reconnection attempt${n === 1 ? "" : "s"})`;
    }
    case "NETWORK": {
      const why = causeText(e.cause);
      if (why && !(e.message ?? "").includes(why)) return `network error: ${why}`;
      break;
    }
  }
  return e.message || causeText(e.cause) || e.code || "connection failed";
}

// OpenSSL's verification codes (as Node names them) and Node's TLS/SSL error codes.
const TLS_ERROR =
  /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_(GET|VERIFY|DECRYPT)|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE)/;

/** The TLS error behind a failure, if that is what it was (searched down a few causes). */
export function tlsFailure(cause: unknown): Error | undefined {
  for (let e = cause, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && TLS_ERROR.test(code)) return e;
  }
  return undefined;
}

/** A status and what to print on stderr (nothing when `message` is undefined). */
export interface Ending {
  code: number;
  message?: string | undefined;
}

/**
 * A certificate the server keeps presenting will not be accepted on the next attempt either:
 * a TLS failure ends the run at once, as curl does, rather than being retried forever.
 */
export function tlsEnding(e: ErrorFields, { tlsOptions = true } = {}): Ending | undefined {
  const tls = tlsFailure(e.cause);
  if (tls === undefined) return undefined;
  const advice = tlsOptions ? " (--cacert <file> trusts a CA, -k accepts any certificate)" : "";
  return { code: EXIT.TLS, message: `error: TLS: ${causeText(tls)}${advice}` };
}

/**
 * The end of a run whose source failed for good (what its iterator threw). `tlsOptions`:
 * whether the command has --cacert and -k to suggest for a certificate refused.
 */
export function failureEnding(e: ErrorFields, { verbose = false, tlsOptions = true } = {}): Ending {
  // 204 No Content is the spec's way for a server to say "stop reconnecting": a clean end.
  if (e.code === "HTTP_STATUS" && e.status === 204) {
    return { code: EXIT.OK, message: verbose ? "the server ended the stream (HTTP 204 No Content)" : undefined };
  }
  const tls = tlsEnding(e, { tlsOptions });
  if (tls !== undefined) return tls;
  const code = e.code !== undefined && Object.hasOwn(EXIT_BY_CODE, e.code) ? EXIT_BY_CODE[e.code as EventSourceErrorCode] : EXIT.FAILED;
  return { code, message: `error: ${describeError(e)}` };
}

/** Bad usage found after the options were parsed (an unreadable file): exit 2. */
export class UsageError extends Error {}

/** The line for anything thrown that ends a command. */
export function thrownMessage(error: unknown): string {
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}
