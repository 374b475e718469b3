/**
 * The failures a reconnection would only meet again, told by the error codes of Node's
 * transports and of fetches built on them (undici). The browser build has
 * failures.browser.ts instead: a browser's fetch fails with a bare TypeError, no code.
 */
import { errorMessage, type EventSourceErrorInit } from "./errors.js";
import { ContentEncodingError } from "./transport/types.js";

/**
 * OpenSSL's certificate verification failures, as Node names them (`X509_V_ERR_*` without
 * the prefix), and Node's own host name check. A retry would meet the same certificate.
 */
const CERTIFICATE_ERRORS: ReadonlySet<string> = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * The failures a reconnection would only meet again, found anywhere on the `cause` chain (a
 * fetch wraps the socket's error in a TypeError): a refused certificate or a TLS handshake
 * the server rejected (`ERR_SSL_*` or OpenSSL's EPROTO: an unknown CA alert, TLS spoken to
 * a plain HTTP port), and a body that cannot be decoded (ours, or zlib's error under a
 * fetch: `Z_DATA_ERROR`, brotli's `ERR__ERROR_*`).
 * A timeout (`ERR_TLS_HANDSHAKE_TIMEOUT`) is not one of them: it is a network error.
 */
export function permanentFailure(error: unknown): "TLS" | "CONTENT_ENCODING" | null {
  try {
    let e = error;
    for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
      if (e instanceof ContentEncodingError) return "CONTENT_ENCODING";
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string") {
        if (CERTIFICATE_ERRORS.has(code) || code.startsWith("ERR_SSL_")) return "TLS";
        // Node 20 reports some handshake failures as a write's EPROTO with OpenSSL's text.
        if (code === "EPROTO" && /SSL routines/.test(String((e as { message?: unknown }).message))) return "TLS";
        if (code === "Z_DATA_ERROR" || code.startsWith("ERR__ERROR_")) return "CONTENT_ENCODING";
      }
      e = (e as { cause?: unknown }).cause;
    }
  } catch {
    // A getter that throws: nothing to learn from it.
  }
  return null;
}

/** A request to `url` that threw: the TLS failure, when it was one (see permanentFailure). */
export function tlsFailure(error: unknown, url: URL): EventSourceErrorInit | null {
  if (permanentFailure(error) !== "TLS") return null;
  return { code: "TLS", message: `TLS with ${url.host} failed: ${errorMessage(error)}`, cause: error };
}

/** A body whose reading failed: the CONTENT_ENCODING failure, when it could not be decoded. */
export function decodingFailure(error: unknown): EventSourceErrorInit | null {
  if (permanentFailure(error) !== "CONTENT_ENCODING") return null;
  return { code: "CONTENT_ENCODING", message: `the response body cannot be decoded: ${errorMessage(error)}`, cause: error };
}
