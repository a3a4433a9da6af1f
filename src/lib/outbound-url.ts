/**
 * Which URLs the Worker may POST to on a customer's behalf (partner webhooks): public https
 * endpoints only, never internal or special-purpose addresses (SSRF: an admin key must not be
 * able to aim signed deliveries at loopback, the private network or a cloud metadata service).
 *
 * The host is judged as the WHATWG URL parser — the one `fetch` uses — normalises it, so every
 * spelling of an address is caught: `https://2130706433`, `https://0x7f.1`, `https://0177.0.0.1`
 * and `https://127.1` are all `127.0.0.1`; `https://[::ffff:127.0.0.1]` is `[::ffff:7f00:1]`;
 * `https://loc%61lhost` is `localhost`.
 *
 * What this cannot see: a public name that resolves (or is re-pointed, "DNS rebinding") to a
 * private address. A Worker has no DNS lookup to check the resolved address before the fetch.
 * On Cloudflare this is contained anyway — a deployed Worker's fetch does not reach private
 * networks — so the check matters most for self-hosted runs (wrangler dev / workerd on your own
 * network) and as policy. Redirects are not followed by the delivery fetch (a 3xx is a failure),
 * so a public endpoint cannot bounce a delivery inward either.
 */

/** Why `raw` may not be a delivery target, or null when it may. Pure: no I/O, no environment. */
export function outboundUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "url is not a valid URL";
  }
  if (url.protocol !== "https:") return "url must use https";
  if (url.username || url.password) return "url must not contain credentials (user:password@)";
  const problem = hostProblem(url.hostname);
  return problem ? `url must not point at an internal or special-purpose address: ${problem}` : null;
}

/** Why a (WHATWG-normalised, lowercase) hostname is not a public delivery target, or null. */
function hostProblem(hostname: string): string | null {
  if (hostname.startsWith("[")) {
    const groups = parseIpv6(hostname.slice(1, -1));
    if (!groups) return `${hostname} is not a valid IPv6 address`;
    const reason = ipv6Problem(groups);
    return reason ? `${hostname} is ${reason}` : null;
  }
  const v4 = parseIpv4(hostname);
  if (v4 !== null) {
    const reason = ipv4Problem(v4);
    return reason ? `${hostname} is ${reason}` : null;
  }
  // A fully qualified name may end in a dot ("localhost."): judge it without.
  const name = hostname.replace(/\.$/, "");
  const suffix = RESERVED_NAME_SUFFIXES.find((s) => name === s || name.endsWith(`.${s}`));
  if (suffix === name) return `${hostname} is a name reserved for this machine or the local network`;
  if (suffix) return `${hostname} is under .${suffix}, a name reserved for local or internal use`;
  if (!name.includes(".")) return `${hostname} is a single-label host name (internal names have no public DNS)`;
  return null;
}

/**
 * Names that never resolve on the public internet, or resolve to this very machine: RFC 6761
 * (localhost, test, invalid, example), RFC 6762 (local, mDNS), RFC 8375 (home.arpa), ICANN's
 * reserved private-use `internal`, and the common private-network suffixes (localdomain, lan,
 * home, corp, intranet) that are not delegated in the public DNS.
 */
const RESERVED_NAME_SUFFIXES = [
  "localhost",
  "local",
  "internal",
  "localdomain",
  "test",
  "invalid",
  "example",
  "home.arpa",
  "lan",
  "home",
  "corp",
  "intranet",
];

/** The dotted-quad the WHATWG parser produces for any IPv4 host, as a 32-bit number; null otherwise. */
function parseIpv4(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return null;
  return ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
}

const cidr4 = (a: number, b: number, c: number, d: number, bits: number) => ({
  base: (((a << 24) >>> 0) + (b << 16) + (c << 8) + d) >>> 0,
  bits,
});

/** IANA IPv4 special-purpose blocks (first match wins, so the specific ones come first). */
const IPV4_BLOCKS: { block: { base: number; bits: number }; reason: string }[] = [
  { block: cidr4(0, 0, 0, 0, 8), reason: "an unspecified / 'this network' address (0.0.0.0/8)" },
  { block: cidr4(10, 0, 0, 0, 8), reason: "a private address (RFC 1918, 10.0.0.0/8)" },
  { block: cidr4(100, 64, 0, 0, 10), reason: "a carrier-grade NAT address (100.64.0.0/10)" },
  { block: cidr4(127, 0, 0, 0, 8), reason: "a loopback address (127.0.0.0/8)" },
  { block: cidr4(169, 254, 0, 0, 16), reason: "a link-local address (169.254.0.0/16, incl. cloud metadata)" },
  { block: cidr4(172, 16, 0, 0, 12), reason: "a private address (RFC 1918, 172.16.0.0/12)" },
  { block: cidr4(192, 0, 0, 0, 24), reason: "a reserved address (IETF protocol assignments, 192.0.0.0/24)" },
  { block: cidr4(192, 0, 2, 0, 24), reason: "a reserved documentation address (192.0.2.0/24)" },
  { block: cidr4(192, 88, 99, 0, 24), reason: "a reserved address (6to4 relay anycast, 192.88.99.0/24)" },
  { block: cidr4(192, 168, 0, 0, 16), reason: "a private address (RFC 1918, 192.168.0.0/16)" },
  { block: cidr4(198, 18, 0, 0, 15), reason: "a reserved benchmarking address (198.18.0.0/15)" },
  { block: cidr4(198, 51, 100, 0, 24), reason: "a reserved documentation address (198.51.100.0/24)" },
  { block: cidr4(203, 0, 113, 0, 24), reason: "a reserved documentation address (203.0.113.0/24)" },
  { block: cidr4(224, 0, 0, 0, 4), reason: "a multicast address (224.0.0.0/4)" },
  { block: cidr4(240, 0, 0, 0, 4), reason: "a reserved address (240.0.0.0/4, incl. broadcast)" },
];

function ipv4Problem(ip: number): string | null {
  for (const { block, reason } of IPV4_BLOCKS) {
    const mask = block.bits === 0 ? 0 : (~0 << (32 - block.bits)) >>> 0;
    if ((ip & mask) >>> 0 === block.base) return reason;
  }
  return null;
}

/** Eight 16-bit groups of an IPv6 address (as the WHATWG serialiser writes it: hex, `::`-compressed); null if malformed. */
function parseIpv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  // An embedded dotted quad (the parser never emits one, but be strict if handed raw text).
  const last = halves.length === 2 ? tail : head;
  if (last.length && last[last.length - 1].includes(".")) {
    const v4 = parseIpv4(last[last.length - 1]);
    if (v4 === null) return null;
    last.splice(last.length - 1, 1, ((v4 >>> 16) & 0xffff).toString(16), (v4 & 0xffff).toString(16));
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return all.map((g) => parseInt(g, 16));
}

function ipv6Problem(g: number[]): string | null {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const embeddedV4 = (hi: number, lo: number) => (((g[hi] << 16) >>> 0) + g[lo]) >>> 0;
  if (zeros(0, 8)) return "the unspecified IPv6 address (::)";
  if (zeros(0, 7) && g[7] === 1) return "the IPv6 loopback address (::1)";
  // IPv4-mapped ::ffff:a.b.c.d reaches the IPv4 address: judge that.
  if (zeros(0, 5) && g[5] === 0xffff) return mappedProblem("an IPv4-mapped address of", embeddedV4(6, 7));
  if (zeros(0, 6)) return "a deprecated IPv4-compatible address (::/96)";
  // NAT64 64:ff9b::/96 translates to the embedded IPv4 address; 64:ff9b:1::/48 is for local use.
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return mappedProblem("a NAT64 address of", embeddedV4(6, 7));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return "a local-use NAT64 address (64:ff9b:1::/48)";
  // 6to4 2002:a.b.c.d::/48 embeds the IPv4 address of its gateway.
  if (g[0] === 0x2002) return mappedProblem("a 6to4 address of", embeddedV4(1, 2));
  if (g[0] === 0x100 && zeros(1, 4)) return "a reserved discard-only address (100::/64)";
  if (g[0] === 0x2001 && g[1] < 0x200) return "a reserved IETF special-purpose address (2001::/23, incl. Teredo)";
  if (g[0] === 0x2001 && g[1] === 0xdb8) return "a reserved documentation address (2001:db8::/32)";
  if ((g[0] & 0xfe00) === 0xfc00) return "a unique-local address (fc00::/7)";
  if ((g[0] & 0xffc0) === 0xfe80) return "a link-local address (fe80::/10)";
  if ((g[0] & 0xffc0) === 0xfec0) return "a deprecated site-local address (fec0::/10)";
  if ((g[0] & 0xff00) === 0xff00) return "a multicast address (ff00::/8)";
  return null;
}

function mappedProblem(what: string, v4: number): string | null {
  const reason = ipv4Problem(v4);
  if (!reason) return null;
  const dotted = [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255].join(".");
  return `${what} ${dotted}, ${reason}`;
}
