import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { postOutbound, targetUrlProblem } from "../../src/lib/outbound-fetch";
import { outboundUrlProblem } from "../../src/lib/outbound-url";

// Runs inside workerd: the WHATWG URL parser here is the one the Worker's fetch uses.
const rejects = (url: string, reason: RegExp) => {
  const problem = outboundUrlProblem(url);
  expect(problem, url).not.toBeNull();
  expect(problem, url).toMatch(reason);
};

describe("outbound URL policy: allowed", () => {
  it.each([
    "https://partner.example.com/loyalty/webhooks",
    "https://hooks.partner.co.jp:8443/in?x=1#frag", // ports, query and fragment are fine
    "https://partner.example.com./hook", // fully qualified, trailing dot
    "https://8.8.8.8/hook",
    "https://1.1.1.1",
    "https://100.63.255.255", // just below CGNAT
    "https://100.128.0.1", // just above CGNAT
    "https://172.15.255.255", // just below 172.16/12
    "https://172.32.0.1", // just above
    "https://169.255.0.1",
    "https://223.255.255.255", // just below multicast
    "https://[2606:4700::1111]",
    "https://[2001:4860:4860::8888]",
    "https://[::ffff:8.8.8.8]", // IPv4-mapped public address
    "https://[2002:808:808::1]", // 6to4 of a public address
    "https://0x7f.0.0.1.nip.io", // a DNS name: what it resolves to cannot be checked (DNS rebinding)
  ])("%s", (url) => expect(outboundUrlProblem(url)).toBeNull());
});

describe("outbound URL policy: rejected", () => {
  it("requires https and a parseable URL", () => {
    rejects("http://partner.example.com/hook", /must use https/);
    rejects("ftp://partner.example.com/hook", /must use https/);
    rejects("not a url", /not a valid URL/);
  });

  it("rejects credentials in the URL", () => {
    rejects("https://user:pass@partner.example.com/hook", /credentials/);
    rejects("https://user@partner.example.com/hook", /credentials/);
    rejects("https://:secret@partner.example.com/hook", /credentials/);
    // The classic confusion: the "host" before @ is a user name, the real host is internal.
    rejects("https://partner.example.com@10.0.0.1/hook", /credentials/);
  });

  it.each([
    ["https://127.0.0.1/hook", /loopback/],
    ["https://127.255.255.254", /loopback/],
    ["https://10.0.0.5", /private address \(RFC 1918, 10\./],
    ["https://172.16.0.1", /private address \(RFC 1918, 172\.16/],
    ["https://172.31.255.255", /RFC 1918/],
    ["https://192.168.1.10:8443/hook", /private address \(RFC 1918, 192\.168/],
    ["https://169.254.169.254/latest/meta-data/", /link-local.*metadata/],
    ["https://100.64.0.1", /carrier-grade NAT/],
    ["https://100.127.255.255", /carrier-grade NAT/],
    ["https://0.0.0.0", /unspecified/],
    ["https://0.1.2.3", /unspecified/],
    ["https://224.0.0.1", /multicast/],
    ["https://239.255.255.250", /multicast/],
    ["https://240.0.0.1", /reserved/],
    ["https://255.255.255.255", /reserved.*broadcast/],
    ["https://192.0.2.1", /documentation/],
    ["https://198.18.0.1", /benchmarking/],
  ])("IPv4 %s", (url, reason) => rejects(url, reason));

  it.each([
    ["https://2130706433/hook", /127\.0\.0\.1 is a loopback/], // decimal
    ["https://0x7f000001", /127\.0\.0\.1 is a loopback/], // hex
    ["https://0x7f.1", /127\.0\.0\.1 is a loopback/], // hex, short form
    ["https://0177.0.0.1", /127\.0\.0\.1 is a loopback/], // octal
    ["https://127.1", /127\.0\.0\.1 is a loopback/], // short form
    ["https://127.0.0.1.", /127\.0\.0\.1 is a loopback/], // trailing dot
    ["https://0", /0\.0\.0\.0 is an unspecified/],
    ["https://167772165", /10\.0\.0\.5 is a private/],
    ["https://0xa9.0xfe.0xa9.0xfe", /169\.254\.169\.254 is a link-local/],
    ["https://１２７.０.０.１", /127\.0\.0\.1 is a loopback/], // full-width digits (IDNA-mapped)
  ])("non-standard IPv4 notation %s, as the WHATWG parser normalises it", (url, reason) => {
    expect(new URL(url).hostname).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    rejects(url, reason);
  });

  it.each([
    ["https://[::1]/hook", /IPv6 loopback/],
    ["https://[0:0:0:0:0:0:0:1]", /IPv6 loopback/],
    ["https://[::]", /unspecified IPv6/],
    ["https://[fc00::1]", /unique-local/],
    ["https://[fd12:3456:789a::1]", /unique-local/],
    ["https://[fe80::1]", /link-local/],
    ["https://[febf:ffff::1]", /link-local/],
    ["https://[fec0::1]", /site-local/],
    ["https://[ff02::1]", /multicast/],
    ["https://[2001:db8::1]", /documentation/],
    ["https://[::ffff:127.0.0.1]", /IPv4-mapped address of 127\.0\.0\.1, a loopback/],
    ["https://[::ffff:7f00:1]", /IPv4-mapped address of 127\.0\.0\.1/],
    ["https://[::ffff:10.0.0.5]", /IPv4-mapped address of 10\.0\.0\.5, a private/],
    ["https://[::ffff:169.254.169.254]", /IPv4-mapped address of 169\.254\.169\.254/],
    ["https://[::127.0.0.1]", /IPv4-compatible/],
    ["https://[64:ff9b::10.0.0.1]", /NAT64 address of 10\.0\.0\.1/],
    ["https://[2002:7f00:1::1]", /6to4 address of 127\.0\.0\.1/],
  ])("IPv6 %s", (url, reason) => rejects(url, reason));

  it.each([
    ["https://localhost/hook", /localhost is a name reserved for this machine/],
    ["https://LOCALHOST.", /localhost\. is a name reserved/],
    ["https://loc%61lhost", /localhost is a name reserved/], // percent-encoded, decoded by the parser
    ["https://local", /reserved/],
    ["https://api.localhost", /under \.localhost/],
    ["https://printer.local", /under \.local,/],
    ["https://metadata.google.internal/computeMetadata/v1/", /under \.internal/],
    ["https://foo.internal", /under \.internal/],
    ["https://db.localdomain", /under \.localdomain/],
    ["https://receiver.test/hook", /under \.test/],
    ["https://router.home.arpa", /under \.home\.arpa/],
    ["https://fileserver", /single-label/],
    ["https://fileserver./hook", /single-label/],
    ["https://corp.intranet", /under \.intranet/],
    ["https://metadata", /single-label/],
  ])("reserved or internal name %s", (url, reason) => rejects(url, reason));

  it("names the reason in the message", () => {
    expect(outboundUrlProblem("https://10.0.0.5/hook")).toBe(
      "url must not point at an internal or special-purpose address: 10.0.0.5 is a private address (RFC 1918, 10.0.0.0/8)",
    );
  });
});

describe("webhook URL policy: the loopback a test Worker entry declares", () => {
  const calls: string[] = [];
  const loopback = {
    hosts: ["receiver.test"],
    fetch: async (url: string) => {
      calls.push(url);
      return new Response("looped back");
    },
  };
  const env = (outboundLoopback?: unknown) => ({ outboundLoopback }) as unknown as Env;

  it("allows only the declared hosts, only when an entry's code declares them", () => {
    expect(targetUrlProblem(env(loopback), "http://receiver.test/__test/receiver/b")).toBeNull();
    expect(targetUrlProblem(env(), "http://receiver.test/__test/receiver/b")).toMatch(/https/);
    expect(targetUrlProblem(env(), "https://receiver.test/__test/receiver/b")).toMatch(/under \.test/);
    // Configuration cannot supply it: a var or secret is a string, never a function.
    expect(targetUrlProblem(env("receiver.test"), "https://receiver.test/x")).toMatch(/under \.test/);
    expect(targetUrlProblem(env({ hosts: ["receiver.test"], fetch: "1" }), "https://receiver.test/x")).toMatch(/under \.test/);
    // The loopback opens nothing else.
    expect(targetUrlProblem(env(loopback), "https://127.0.0.1/hook")).toMatch(/loopback/);
    expect(targetUrlProblem(env(loopback), "http://other.test/hook")).toMatch(/https/);
    expect(targetUrlProblem(env(loopback), "https://localhost/hook")).toMatch(/reserved/);
    expect(targetUrlProblem(env(loopback), "https://partner.example.com/hook")).toBeNull();
  });

  it("sends a declared host's requests to the loopback", async () => {
    const res = await postOutbound(env(loopback), "http://receiver.test/__test/receiver/b", { headers: {}, body: "{}" });
    expect(res).toEqual({ outcome: "delivered", status: 200, body: "looped back" });
    expect(calls).toEqual(["http://receiver.test/__test/receiver/b"]);
  });
});
