import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addressProblem,
  checkWebhookUrl,
  parseAddress,
  parseAllowHosts,
  parseIPv6,
  webhookUrlProblem,
} from "./webhook_url.ts";

const notCanonical = (h: string) =>
  `names host ${h}, which is not a canonical IPv4 address (decimal, octal and hex forms are refused)`;
const notPublic = (h: string, why: string) =>
  `names host ${h}, which is not a public address (${why})`;

Deno.test("webhookUrlProblem: every refused class, with the SQL's messages", () => {
  const table: [string, string][] = [
    ["http://hooks.example.com/drift", "must use https"],
    ["HTTP://hooks.example.com/drift", "must use https"],
    ["ftp://hooks.example.com/", "must be an https:// URL"],
    ["hooks.example.com/drift", "must be an https:// URL"],
    ["//hooks.example.com/drift", "must be an https:// URL"],
    ["", "must be an https:// URL"],
    ["https://user:secret@hooks.example.com/", "must not carry credentials (user:password@)"],
    ["https://hooks.example.com@127.0.0.1/", "must not carry credentials (user:password@)"],
    ["https://@hooks.example.com/", "must not carry credentials (user:password@)"],
    ["https://hooks.example.com\\@127.0.0.1/", "contains a backslash"],
    ["https://hooks.example.com/a b", "contains whitespace, control or non-ASCII characters"],
    [
      "https://hooks.example.com/\r\nX-Injected: 1",
      "contains whitespace, control or non-ASCII characters",
    ],
    ["https://hööks.example.com/", "contains whitespace, control or non-ASCII characters"],
    [`https://hooks.example.com/${"a".repeat(2030)}`, "is longer than 2048 characters"],
    ["https:///drift", "has no host"],
    ["https://:443/drift", "has no host"],
    ["https://hooks.example.com:0/", "has a malformed port"],
    ["https://hooks.example.com:0443/", "has a malformed port"],
    ["https://hooks.example.com:65536/", "has a malformed port"],
    ["https://hooks.example.com:/", "has a malformed port"],
    ["https://hooks.example.com:https/", "has a malformed port"],
    ["https://hooks.example.com./", "has a malformed host"],
    ["https://hooks..example.com/", "has a malformed host"],
    ["https://hooks_x.example.com/", "has a malformed host"],
    ["https://-hooks.example.com/", "has a malformed host"],
    ["https://hooks%2eexample.com/", "has a malformed host"],
    [`https://${"a".repeat(64)}.example.com/`, "has a malformed host"],
    ["https://hooks.example.1com/", "has a malformed host"],
    ["https://[::1/", "has a malformed host"],
    ["https://[1::2::3]/", "has a malformed host"],
    ["https://[fe80::1%25eth0]/", "has a malformed host"],
    ["https://[::1.2.3]/", "has a malformed host"],
    ["https://[::01.2.3.4]/", "has a malformed host"],
    ["https://[1:2:3:4:5:6:7:8:9]/", "has a malformed host"],
    ["https://[1:2:3:4::5:6:7:8]/", "has a malformed host"],
    ["https://[127.0.0.1]/", "has a malformed host"],
    ["https://::1/", "has a malformed host (an IPv6 address goes in brackets)"],
    ["https://127.0.0.1/", notPublic("127.0.0.1", "loopback, 127.0.0.0/8")],
    [
      "https://127.255.255.254:54330/_sandbox/reset",
      notPublic("127.255.255.254", "loopback, 127.0.0.0/8"),
    ],
    ["https://169.254.169.254/latest", notPublic("169.254.169.254", "link-local, 169.254.0.0/16")],
    ["https://10.0.0.1/", notPublic("10.0.0.1", "private, 10.0.0.0/8")],
    ["https://172.31.255.255/", notPublic("172.31.255.255", "private, 172.16.0.0/12")],
    ["https://192.168.0.1/", notPublic("192.168.0.1", "private, 192.168.0.0/16")],
    ["https://100.127.255.255/", notPublic("100.127.255.255", "shared (CGNAT), 100.64.0.0/10")],
    ["https://0.0.0.0/", notPublic("0.0.0.0", "this network, 0.0.0.0/8")],
    ["https://192.0.0.8/", notPublic("192.0.0.8", "IETF protocol assignments, 192.0.0.0/24")],
    ["https://198.18.0.1/", notPublic("198.18.0.1", "benchmarking, 198.18.0.0/15")],
    ["https://203.0.113.7/", notPublic("203.0.113.7", "documentation, 203.0.113.0/24")],
    ["https://239.1.1.1/", notPublic("239.1.1.1", "multicast, 224.0.0.0/4")],
    ["https://255.255.255.255/", notPublic("255.255.255.255", "reserved, 240.0.0.0/4")],
    ["https://2130706433/", notCanonical("2130706433")],
    ["https://0x7f000001/", notCanonical("0x7f000001")],
    ["https://0x7f.1/", notCanonical("0x7f.1")],
    ["https://0177.0.0.1/", notCanonical("0177.0.0.1")],
    ["https://127.1/", notCanonical("127.1")],
    ["https://127.0.1/", notCanonical("127.0.1")],
    ["https://1.2.3.4.5/", notCanonical("1.2.3.4.5")],
    ["https://256.0.0.1/", notCanonical("256.0.0.1")],
    ["https://a.b.c.0x/", notCanonical("a.b.c.0x")],
    ["https://hooks.example.com.1/", notCanonical("hooks.example.com.1")],
    ["https://[::1]:8443/", notPublic("[::1]", "loopback, ::1/128")],
    ["https://[0:0:0:0:0:0:0:1]/", notPublic("[0:0:0:0:0:0:0:1]", "loopback, ::1/128")],
    ["https://[::]/", notPublic("[::]", "unspecified, ::/128")],
    ["https://[fd00::1]/", notPublic("[fd00::1]", "unique-local, fc00::/7")],
    ["https://[FC00::1]/", notPublic("[fc00::1]", "unique-local, fc00::/7")],
    ["https://[fe80::1]/", notPublic("[fe80::1]", "link-local, fe80::/10")],
    ["https://[fec0::1]/", notPublic("[fec0::1]", "site-local, fec0::/10")],
    ["https://[ff02::1]/", notPublic("[ff02::1]", "multicast, ff00::/8")],
    ["https://[2001:db8::1]/", notPublic("[2001:db8::1]", "documentation, 2001:db8::/32")],
    ["https://[2001::1]/", notPublic("[2001::1]", "IETF protocol assignments, 2001::/23")],
    ["https://[2002:7f00:1::]/", notPublic("[2002:7f00:1::]", "6to4, 2002::/16")],
    ["https://[64:ff9b::7f00:1]/", notPublic("[64:ff9b::7f00:1]", "NAT64, 64:ff9b::/96")],
    [
      "https://[::ffff:127.0.0.1]/",
      notPublic("[::ffff:127.0.0.1]", "IPv4-mapped loopback, 127.0.0.0/8"),
    ],
    ["https://[::ffff:7f00:1]/", notPublic("[::ffff:7f00:1]", "IPv4-mapped loopback, 127.0.0.0/8")],
    [
      "https://[::ffff:a9fe:a9fe]/",
      notPublic("[::ffff:a9fe:a9fe]", "IPv4-mapped link-local, 169.254.0.0/16"),
    ],
    ["https://[::127.0.0.1]/", notPublic("[::127.0.0.1]", "reserved, outside 2000::/3")],
    ["https://[4000::1]/", notPublic("[4000::1]", "reserved, outside 2000::/3")],
    ["https://localhost/", "names host localhost, a loopback name"],
    ["https://LOCALHOST:8080/", "names host localhost, a loopback name"],
    ["https://a.b.localhost/", "names host a.b.localhost, a loopback name"],
    [
      "https://metadata/",
      "names host metadata, a single-label name (it resolves inside the network)",
    ],
    [
      "https://metadata.google.internal/",
      "names host metadata.google.internal, in a special-use or internal domain (.internal)",
    ],
    [
      "https://printer.local/",
      "names host printer.local, in a special-use or internal domain (.local)",
    ],
    [
      "https://router.home.arpa/",
      "names host router.home.arpa, in a special-use or internal domain (.arpa)",
    ],
    ["https://x.onion/", "names host x.onion, in a special-use or internal domain (.onion)"],
  ];
  for (const [url, problem] of table) {
    assert.equal(webhookUrlProblem(url), problem, url);
    const checked = checkWebhookUrl(url, new Set());
    assert.deepEqual(checked, { ok: false, problem }, url);
  }
});

Deno.test("webhookUrlProblem accepts public https URLs; checkWebhookUrl says where to connect", () => {
  for (
    const url of [
      "https://hooks.example.com/drift",
      "HTTPS://Hooks.Example.COM/x",
      "https://hooks.example.com",
      "https://hooks.example.com?x=1#frag",
      "https://hooks.example.com:8443/a/b?c=d",
      "https://8.8.8.8/",
      "https://[2606:4700:4700::1111]/",
      "https://[::ffff:8.8.8.8]/",
      "https://xn--hks-qoa.example.com/",
      "https://a-b.c-d.io/",
    ]
  ) {
    assert.equal(webhookUrlProblem(url), null, url);
  }
  const c = checkWebhookUrl("https://Hooks.Example.com:8443/a/b?c=d#f", new Set());
  assert.deepEqual(c, {
    ok: true,
    allowListed: false,
    url: {
      scheme: "https",
      host: "hooks.example.com",
      display: "hooks.example.com",
      kind: "name",
      port: 8443,
      target: "/a/b?c=d",
      hostHeader: "hooks.example.com:8443",
      hostPort: "hooks.example.com:8443",
    },
  });
  const v6 = checkWebhookUrl("https://[2606:4700::1111]?q", new Set());
  assert.ok(v6.ok);
  assert.deepEqual(
    [v6.url.host, v6.url.kind, v6.url.port, v6.url.target, v6.url.hostHeader],
    ["2606:4700::1111", "ipv6", 443, "/?q", "[2606:4700::1111]"],
  );
});

Deno.test("the test allow-list permits exactly its host:port entries, http too, nothing else", () => {
  const env = {
    supabaseUrl: "http://127.0.0.1:54321",
    composioBaseUrl: "http://127.0.0.1:54330",
  };
  const allow = parseAllowHosts(
    " 127.0.0.1:4000, [::1]:4001,127.0.0.1:54330,127.0.0.1:54321,localhost,127.0.0.1:0 ",
    env,
  );
  assert.deepEqual([...allow.hosts], ["127.0.0.1:4000", "[::1]:4001"]);
  assert.deepEqual(allow.ignored.map((i) => i.entry), [
    "127.0.0.1:54330",
    "127.0.0.1:54321",
    "localhost",
    "127.0.0.1:0",
  ]);
  assert.match(allow.ignored[0].why, /never allowed: the Composio API or sandbox/);
  assert.match(allow.ignored[1].why, /never allowed: the stack's API/);

  const ok = (url: string) => checkWebhookUrl(url, allow.hosts);
  const listed = ok("http://127.0.0.1:4000/drift");
  assert.ok(listed.ok && listed.allowListed, "http to a listed host:port");
  assert.equal(listed.ok && listed.url.target, "/drift");
  assert.ok(ok("https://127.0.0.1:4000/").ok, "https to a listed host:port");
  assert.ok(ok("http://[::1]:4001/").ok);
  // Not the same host:port: refused as always.
  assert.deepEqual(ok("http://127.0.0.1:4002/"), { ok: false, problem: "must use https" });
  assert.equal(ok("https://127.0.0.1:4002/").ok, false);
  assert.equal(ok("http://127.0.0.1/").ok, false, "the default port is not 4000");
  assert.equal(ok("http://localhost:4000/").ok, false, "another spelling of the host");
  assert.equal(ok("http://2130706433:4000/").ok, false);
  // The sandbox's reset route, even if a test lists the sandbox.
  assert.deepEqual(ok("http://127.0.0.1:54330/_sandbox/reset"), {
    ok: false,
    problem: "must use https",
  });
  assert.equal(ok("https://127.0.0.1:54330/_sandbox/reset").ok, false);
  // Credentials stay refused on a listed host.
  assert.deepEqual(ok("http://u:p@127.0.0.1:4000/"), {
    ok: false,
    problem: "must not carry credentials (user:password@)",
  });

  // Not a local stack: the list is inert.
  const hosted = parseAllowHosts("127.0.0.1:4000", {
    supabaseUrl: "https://abcd.supabase.co",
  });
  assert.equal(hosted.hosts.size, 0);
  assert.match(hosted.ignored[0].why, /not a local stack/);
  assert.equal(parseAllowHosts("127.0.0.1:4000", {}).hosts.size, 0);
  assert.equal(parseAllowHosts(undefined, env).hosts.size, 0);
});

Deno.test("addressProblem: resolved addresses as Deno.resolveDns returns them", () => {
  const table: [string, string | null][] = [
    ["93.184.215.14", null],
    ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", null],
    ["::ffff:93.184.215.14", null],
    ["127.0.0.1", "is not a public address (loopback, 127.0.0.0/8)"],
    ["10.11.12.13", "is not a public address (private, 10.0.0.0/8)"],
    ["169.254.169.254", "is not a public address (link-local, 169.254.0.0/16)"],
    ["100.64.1.1", "is not a public address (shared (CGNAT), 100.64.0.0/10)"],
    ["::1", "is not a public address (loopback, ::1/128)"],
    ["::ffff:127.0.0.1", "is not a public address (IPv4-mapped loopback, 127.0.0.0/8)"],
    ["::ffff:192.168.1.1", "is not a public address (IPv4-mapped private, 192.168.0.0/16)"],
    ["fd00:ec2::254", "is not a public address (unique-local, fc00::/7)"],
    ["fe80::1", "is not a public address (link-local, fe80::/10)"],
    ["not-an-address", "is not an IP address: not-an-address"],
  ];
  for (const [addr, want] of table) assert.equal(addressProblem(addr), want, addr);
});

// ---------------------------------------------------------------------------------------
// Properties.

const byte = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(byte, byte, byte, byte);

/** The forms URL parsers decode to the same IPv4 address (WHATWG "IPv4 parser"). */
function numericForms([a, b, c, d]: number[]): string[] {
  const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  const hex = (x: number) => `0x${x.toString(16)}`;
  const oct = (x: number) => `0${x.toString(8)}`;
  return [
    String(n),
    hex(n),
    oct(n),
    `${a}.${(b << 16) + (c << 8) + d}`,
    `${a}.${b}.${(c << 8) + d}`,
    `${hex(a)}.${hex(b)}.${hex(c)}.${hex(d)}`,
    `${oct(a)}.${b}.${c}.${d}`,
    `${a}.${b}.${c}.${oct(d)}`,
  ];
}

Deno.test("property: no numeric form of an IPv4 address but the canonical one is accepted", () => {
  fc.assert(fc.property(ipv4, (addr) => {
    const canonical = addr.join(".");
    for (const form of numericForms(addr)) {
      // Every form is what a URL parser reads as this very address…
      assert.equal(new URL(`https://${form}/`).hostname, canonical, form);
      if (form === canonical) continue;
      // …and none of them is taken for anything: refused before any decoding.
      assert.equal(webhookUrlProblem(`https://${form}/`), notCanonical(form), form);
    }
  }));
});

Deno.test("property: whatever is accepted, a URL parser reads as a public host", () => {
  // Hosts built from the characters numeric, bracketed and dotted forms are made of.
  const hostChar = fc.constantFrom(..."0123456789abcdefx.:[]-".split(""));
  const host = fc.array(hostChar, { minLength: 1, maxLength: 24 }).map((cs) => cs.join(""));
  fc.assert(
    fc.property(host, fc.constantFrom("", ":8443"), (h, port) => {
      const url = `https://${h}${port}/x`;
      if (webhookUrlProblem(url) !== null) return;
      const parsed = new URL(url); // accepted implies parseable
      const name = parsed.hostname.replace(/^\[|\]$/g, "");
      const bytes = parseAddress(name);
      if (bytes) assert.equal(addressProblem(name), null, `${url} → ${parsed.hostname}`);
      else assert.ok(name.includes(".") && /[a-z]/.test(name.split(".").at(-1)![0]), url);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("property: an IPv6 address parses the same in every text form", () => {
  const group = fc.integer({ min: 0, max: 0xffff });
  fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
    const full = groups.map((g) => g.toString(16)).join(":");
    const want = parseIPv6(full.toUpperCase());
    assert.ok(want, full);
    // WHATWG's serialisation compresses the longest run of zeros; it must mean the same.
    const compressed = new URL(`https://[${full}]/`).hostname.slice(1, -1);
    assert.deepEqual(parseIPv6(compressed), want, compressed);
    const mapped = `::ffff:${groups.slice(0, 4).map((g) => g & 0xff).join(".")}`;
    const v4 = groups.slice(0, 4).map((g) => g & 0xff).join(".");
    assert.equal(
      addressProblem(mapped)?.replace("IPv4-mapped ", "") ?? null,
      addressProblem(v4),
      "a mapped address is judged as the IPv4 address it maps",
    );
  }));
});
