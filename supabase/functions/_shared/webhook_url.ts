// Which URLs the server may POST to, and which addresses it may then connect to: the
// delivery-time half of the webhook policy (the write-time half is the guardrails CHECK,
// internal.webhook_url_problem). webhookUrlProblem applies the same rules in the same order
// with the same messages as the SQL (tests/webhook_url_parity_test.ts feeds both the same
// URLs), so what was refused on write is refused here too, whatever stored it. Pure: the
// sender (webhook_send.ts) resolves names and checks each address with addressProblem.
//
// Hosts are read from the URL text itself, not through `new URL`, and only forms that every
// reader agrees on are accepted: a host whose last label is a number is an IPv4 address to
// URL parsers (2130706433, 0x7f.1 and 0177.0.0.1 are 127.0.0.1), so anything but the
// canonical dotted quad is refused rather than decoded.

/** The special-purpose blocks of the IANA registries that are not public unicast. */
const nonPublic: ReadonlyArray<readonly [string, string]> = [
  ["0.0.0.0/8", "this network"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "shared (CGNAT)"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "IETF protocol assignments"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "6to4 relay"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["64:ff9b::/96", "NAT64"],
  ["64:ff9b:1::/48", "NAT64"],
  ["100::/64", "discard"],
  ["2001::/23", "IETF protocol assignments"],
  ["2001:db8::/32", "documentation"],
  ["2002::/16", "6to4"],
  ["3fff::/20", "documentation"],
  ["fc00::/7", "unique-local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"],
  ["ff00::/8", "multicast"],
];

/** Special-use names (RFC 6761, 6762, 7686, 8375) and the usual internal suffixes. */
const internalDomains = [
  "local",
  "localdomain",
  "internal",
  "intranet",
  "lan",
  "home",
  "corp",
  "private",
  "test",
  "invalid",
  "example",
  "onion",
  "arpa",
];

const octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const canonicalIPv4 = new RegExp(`^(${octet}\\.){3}${octet}$`);
/** An embedded dotted quad must end an IPv6 address, after a colon. */
const embeddedIPv4 = new RegExp(`^[0-9a-f:]*:(${octet}\\.){3}${octet}$`);

/** The canonical dotted quad as 4 bytes, or null. */
export function parseIPv4(text: string): Uint8Array | null {
  if (!canonicalIPv4.test(text)) return null;
  return Uint8Array.from(text.split(".").map(Number));
}

/** An IPv6 address in RFC 4291 text form (lower or upper hex, one `::`) as 16 bytes, or null. */
export function parseIPv6(text: string): Uint8Array | null {
  const s = text.toLowerCase();
  if (!/^[0-9a-f:.]+$/.test(s) || !s.includes(":")) return null;
  let tail: Uint8Array | null = null;
  let head = s;
  if (s.includes(".")) {
    if (!embeddedIPv4.test(s)) return null;
    const at = s.lastIndexOf(":");
    tail = parseIPv4(s.slice(at + 1));
    // "::1.2.3.4" keeps its "::"; "1:2:3:4:5:6:1.2.3.4" its last colon as a separator.
    head = s.slice(0, at + 1);
    head = head.endsWith("::") ? head : head.slice(0, -1);
  }
  const groupsMax = tail ? 6 : 8;
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(halves[0]);
  const right = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!left || !right) return null;
  const given = left.length + right.length;
  if (halves.length === 2 ? given >= groupsMax : given !== groupsMax) return null;
  const groups = [...left, ...new Array(groupsMax - given).fill(0), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  if (tail) bytes.set(tail, 12);
  return bytes;
}

/** An address Deno.resolveDns returned (or any literal), as 4 or 16 bytes, or null. */
export function parseAddress(text: string): Uint8Array | null {
  return parseIPv4(text) ?? parseIPv6(text);
}

interface Block {
  bytes: Uint8Array;
  prefix: number;
  text: string;
  label: string;
}

const blocks: Block[] = nonPublic.map(([text, label]) => {
  const [net, prefix] = text.split("/");
  return { bytes: parseAddress(net)!, prefix: Number(prefix), text, label };
}).sort((a, b) => b.prefix - a.prefix);

function inBlock(addr: Uint8Array, b: Block): boolean {
  if (addr.length !== b.bytes.length) return false;
  for (let bit = 0; bit < b.prefix; bit += 8) {
    const n = Math.min(8, b.prefix - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    if ((addr[bit / 8] & mask) !== (b.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

const isMapped = (a: Uint8Array) =>
  a.length === 16 && a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff &&
  a[11] === 0xff;

/**
 * Why an address is not public unicast ("loopback, 127.0.0.0/8"), or null when it is. An
 * IPv4-mapped IPv6 address counts as the IPv4 address it maps.
 */
export function addressClass(addr: Uint8Array): string | null {
  const mapped = isMapped(addr);
  const a = mapped ? addr.subarray(12) : addr;
  const hit = blocks.find((b) => inBlock(a, b));
  const prefix = mapped ? "IPv4-mapped " : "";
  if (hit) return `${prefix}${hit.label}, ${hit.text}`;
  // Only 2000::/3 is allocated for global unicast.
  if (a.length === 16 && (a[0] & 0xe0) !== 0x20) return "reserved, outside 2000::/3";
  return null;
}

/** The address text's problem as the policy words it, or null for a public address. */
export function addressProblem(address: string): string | null {
  const bytes = parseAddress(address);
  if (!bytes) return `is not an IP address: ${address}`;
  const why = addressClass(bytes);
  return why ? `is not a public address (${why})` : null;
}

export interface WebhookTarget {
  scheme: "https" | "http";
  /** Lower case; an IPv6 address without its brackets. */
  host: string;
  /** As the URL wrote it (lower case, brackets kept): what messages name. */
  display: string;
  kind: "name" | "ipv4" | "ipv6";
  port: number;
  /** Path and query, `/` when the URL has none; never the fragment. */
  target: string;
  /** The Host header: the host as written, with the port unless it is the scheme's. */
  hostHeader: string;
  /** `host:port` with the effective port: what the test allow-list names. */
  hostPort: string;
}

type Parsed =
  | { ok: true; url: WebhookTarget; policy: string | null }
  | { ok: false; problem: string };

/**
 * The URL's parts and, separately, its host policy problem (what an allow-listed host may
 * skip). Steps and messages follow internal.webhook_url_problem exactly.
 */
function parse(raw: string, allowHttp: boolean): Parsed {
  const fail = (problem: string): Parsed => ({ ok: false, problem });
  // Characters, as Postgres counts them (code points), not UTF-16 units.
  if ([...raw].length > 2048) return fail("is longer than 2048 characters");
  if (/[^\x21-\x7e]/.test(raw)) {
    return fail("contains whitespace, control or non-ASCII characters");
  }
  if (raw.includes("\\")) return fail("contains a backslash");
  let scheme: "https" | "http";
  let rest: string;
  if (raw.slice(0, 7).toLowerCase() === "http://") {
    if (!allowHttp) return fail("must use https");
    scheme = "http";
    rest = raw.slice(7);
  } else if (raw.slice(0, 8).toLowerCase() === "https://") {
    scheme = "https";
    rest = raw.slice(8);
  } else {
    return fail("must be an https:// URL");
  }
  const authRaw = /^[^/?#]*/.exec(rest)![0];
  const auth = authRaw.toLowerCase();
  let host: string;
  let port: string;
  if (auth.includes("@")) return fail("must not carry credentials (user:password@)");
  if (auth === "") return fail("has no host");
  const bracketed = auth.startsWith("[");
  if (bracketed) {
    const m = /^\[([^\]]*)\]/.exec(auth);
    if (!m) return fail("has a malformed host");
    host = m[1];
    port = auth.slice(host.length + 2);
  } else if (/:.*:/.test(auth)) {
    return fail("has a malformed host (an IPv6 address goes in brackets)");
  } else {
    host = auth.split(":")[0];
    port = auth.slice(host.length);
  }
  if (port !== "" && (!/^:[1-9][0-9]{0,4}$/.test(port) || Number(port.slice(1)) > 65535)) {
    return fail("has a malformed port");
  }

  let kind: WebhookTarget["kind"];
  let display = host;
  let ip: Uint8Array | null = null;
  let policy: string | null = null;
  if (bracketed) {
    if (!/^[0-9a-f:.]+$/.test(host) || !host.includes(":")) return fail("has a malformed host");
    ip = parseIPv6(host);
    if (!ip) return fail("has a malformed host");
    kind = "ipv6";
    display = `[${host}]`;
  } else {
    if (host === "") return fail("has no host");
    const labels = host.split(".");
    if (
      host.length > 253 || !/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(host) ||
      labels.some((l) => l.length > 63 || /^-|-$/.test(l))
    ) {
      return fail("has a malformed host");
    }
    const last = labels[labels.length - 1];
    if (/^([0-9]+|0x[0-9a-f]*)$/.test(last)) {
      ip = parseIPv4(host);
      if (!ip) {
        return fail(
          `names host ${host}, which is not a canonical IPv4 address (decimal, octal and hex forms are refused)`,
        );
      }
      kind = "ipv4";
    } else if (!/^[a-z]/.test(last)) {
      return fail("has a malformed host");
    } else {
      kind = "name";
      const domain = internalDomains.find((d) => host.endsWith(`.${d}`));
      if (host === "localhost" || host.endsWith(".localhost")) {
        policy = `names host ${host}, a loopback name`;
      } else if (labels.length < 2) {
        policy = `names host ${host}, a single-label name (it resolves inside the network)`;
      } else if (domain) {
        policy = `names host ${host}, in a special-use or internal domain (.${domain})`;
      }
    }
  }
  if (ip) {
    const why = addressClass(ip);
    if (why) policy = `names host ${display}, which is not a public address (${why})`;
  }
  const defaultPort = scheme === "https" ? 443 : 80;
  const portNumber = port === "" ? defaultPort : Number(port.slice(1));
  const target = rest.slice(authRaw.length).split("#")[0];
  return {
    ok: true,
    url: {
      scheme,
      host,
      display,
      kind,
      port: portNumber,
      target: target === "" ? "/" : target.startsWith("/") ? target : `/${target}`,
      hostHeader: portNumber === defaultPort ? display : `${display}:${portNumber}`,
      hostPort: `${display}:${portNumber}`,
    },
    policy,
  };
}

/**
 * Why a URL may not be a webhook, as a phrase ("must use https"), or null when it may: the
 * same answer as internal.webhook_url_problem.
 */
export function webhookUrlProblem(raw: string): string | null {
  const p = parse(raw, false);
  return p.ok ? p.policy : p.problem;
}

export type UrlCheck =
  | { ok: true; url: WebhookTarget; allowListed: boolean }
  | { ok: false; problem: string };

/**
 * The delivery-time check of a stored URL. A URL whose exact `host:port` is on the test
 * allow-list (parseAllowHosts) may use http and a host the policy refuses; everything else
 * about it is still checked.
 */
export function checkWebhookUrl(raw: string, allowHosts: ReadonlySet<string>): UrlCheck {
  if (allowHosts.size > 0) {
    const p = parse(raw, true);
    if (!p.ok) return p;
    if (allowHosts.has(p.url.hostPort)) return { ok: true, url: p.url, allowListed: true };
  }
  const p = parse(raw, false);
  if (!p.ok) return p;
  if (p.policy) return { ok: false, problem: p.policy };
  return { ok: true, url: p.url, allowListed: false };
}

/** `host:port` of a URL with its effective port, lower case; null when it has none. */
function hostPortOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === "https:" ? "443" : "80");
    return `${u.hostname.toLowerCase()}:${port}`;
  } catch {
    return null;
  }
}

export interface AllowList {
  hosts: Set<string>;
  /** Entries not honoured, with why (the caller logs them). */
  ignored: { entry: string; why: string }[];
}

/**
 * The test-only allow-list (WEBHOOK_TEST_ALLOW_HOSTS): comma-separated exact `host:port`
 * entries a test receiver listens on. Honoured only on a local stack (SUPABASE_URL on
 * loopback), so a variable set by mistake on hosted opens nothing; and never for the
 * stack's own API or the Composio sandbox, whose routes act (a POST to
 * /_sandbox/reset resets it): no listing can make the server call them.
 */
export function parseAllowHosts(
  text: string | undefined,
  env: { supabaseUrl?: string; composioBaseUrl?: string },
): AllowList {
  const out: AllowList = { hosts: new Set(), ignored: [] };
  const entries = (text ?? "").split(",").map((e) => e.trim().toLowerCase()).filter(Boolean);
  if (entries.length === 0) return out;
  const api = hostPortOf(env.supabaseUrl);
  const local = api !== null && /^(127\.0\.0\.1|localhost|\[::1\]):/.test(api);
  const never = new Map<string, string>();
  if (api) never.set(api, "the stack's API (SUPABASE_URL)");
  const composio = hostPortOf(env.composioBaseUrl);
  if (composio) never.set(composio, "the Composio API or sandbox (COMPOSIO_BASE_URL)");
  for (const entry of entries) {
    if (!local) {
      out.ignored.push({ entry, why: "not a local stack (SUPABASE_URL is not on loopback)" });
    } else if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):[1-9][0-9]{0,4}$/.test(entry)) {
      out.ignored.push({ entry, why: "not an exact host:port" });
    } else if (never.has(entry)) {
      out.ignored.push({ entry, why: `never allowed: ${never.get(entry)}` });
    } else {
      out.hosts.add(entry);
    }
  }
  return out;
}
