// Which proxy a request goes through: -x/--proxy, else the environment variables curl and
// most HTTP tools read, with NO_PROXY exceptions either way. Pure, so the rules are testable.

export type Env = Readonly<Record<string, string | undefined>>;

function envVar(env: Env, name: string): string | undefined {
  // The lower-case form first, as curl does (its upper-case HTTP_PROXY is also what a CGI
  // request's "Proxy:" header becomes, so curl ignores it; here there is no CGI).
  const v = env[name.toLowerCase()] ?? env[name];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/** A proxy written without a scheme (`host:3128`) is an http:// proxy. */
export function proxyUrl(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
}

/**
 * NO_PROXY: a comma-separated list of host names (a name matches itself and its subdomains;
 * a leading "." or "*." is allowed), IP addresses, optionally with ":port"; "*" matches all.
 */
export function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const host = target.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  for (const raw of noProxy.split(",")) {
    let entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    // A port after the host ("[::1]:8080", "host:8080"); a bare IPv6 address has no port.
    const m = /^\[(.*)\](?::(\d+))?$/.exec(entry) ?? (entry.split(":").length === 2 ? /^(.*):(\d+)$/.exec(entry) : null);
    if (m !== null) {
      if (m[2] !== undefined && m[2] !== port) continue;
      entry = m[1]!;
    }
    entry = entry.replace(/^\*?\./, "");
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** The proxy for one request URL, or null for a direct connection. */
export function proxyFor(target: URL, flag: string | undefined, env: Env): string | null {
  if (bypassesProxy(target, envVar(env, "NO_PROXY"))) return null;
  if (flag !== undefined) return flag === "" ? null : proxyUrl(flag);
  const fromEnv = envVar(env, target.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY") ?? envVar(env, "ALL_PROXY");
  return fromEnv === undefined ? null : proxyUrl(fromEnv);
}
