import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hasValidAuthority, isValidHost } from "./host.ts";

// Characters a hostile Host header reaches for, and those of real hosts.
const ALPHABET = [
  ..."abcxyzABC0129-._~!$&'()*+,;=:[]%/\\?#@ ",
  "\t",
  "\v",
  "\0",
  "\x7f",
  "é",
  "€",
  "::",
  "127.0.0.1",
  "0x7f",
  "255",
  "256",
  "65535",
  "65536",
  "xn--",
  "XN--a",
  ".xn--zz",
];
const hostLike = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 16 })
  .map((parts) => parts.join(""));

describe("isValidHost", () => {
  it("accepts host[:port] as real clients send it", () => {
    for (
      const host of [
        "localhost",
        "localhost:8080",
        "example.com",
        "example.com.",
        "EXAMPLE.com",
        "my_host-1.internal:65535",
        "127.0.0.1",
        "10.0.0.7:80",
        "[::1]",
        "[::1]:8080",
        "[2001:db8::1]",
        "[::ffff:127.0.0.1]",
        "xn--caf-dma.example",
      ]
    ) {
      assert.ok(isValidHost(host), host);
    }
  });

  it("refuses paths, userinfo, escapes, controls, bad ports and non-ASCII", () => {
    for (
      const host of [
        "",
        "x/health",
        "x/health/.\t./api/positions/pwn?",
        "x?",
        "x#",
        "x\\y",
        "u@x",
        "x y",
        "x\t",
        "x:99999",
        "x:",
        "x:1:2",
        "x:-1",
        "1.2.3.999",
        "1.2.3",
        "0x7f.1",
        "[::1",
        "::1",
        "[zz::1]",
        "[::1]:99999",
        "%41",
        "é.com",
        "xn--",
        "a.xn--zz",
        "XN--55",
        "a".repeat(2000),
      ]
    ) {
      assert.ok(!isValidHost(host), JSON.stringify(host));
    }
  });

  it("never accepts what the URL parser refuses or would read as more than a host", () => {
    let accepted = 0;
    fc.assert(
      fc.property(hostLike, (host) => {
        if (!isValidHost(host)) return;
        accepted++;
        assert.ok(URL.canParse(`http://${host}/p`), host);
        const url = new URL(`http://${host}/p?q`);
        assert.equal(url.pathname, "/p", host);
        assert.equal(url.username + url.password, "", host);
        for (const c of host) {
          const code = c.charCodeAt(0);
          assert.ok(code > 0x20 && code < 0x7f, JSON.stringify(host));
          assert.ok(!"/\\?#@%".includes(c), host);
        }
      }),
      { numRuns: 20_000 },
    );
    assert.ok(accepted > 100, `only ${accepted} generated hosts were valid`);
  });
});

describe("hasValidAuthority", () => {
  const req = (url: string, host?: string) =>
    new Request(url, { headers: host === undefined ? {} : { host } });

  it("needs a valid authority in the URL and a valid Host header", () => {
    assert.ok(hasValidAuthority(req("http://x:8080/a", "x:8080")));
    assert.ok(
      hasValidAuthority(req("http://x/a")),
      "no Host header: the URL's",
    );
    assert.ok(!hasValidAuthority(req("foo://x/a", "x")), "not http(s)");
    assert.ok(!hasValidAuthority(req("http://x/a", "x/a")), "a path in Host");
    assert.ok(!hasValidAuthority(req("http://u@x/a", "x")), "userinfo");
  });

  it("remembers only a valid Host: an empty or bad one is checked every time", () => {
    assert.ok(!hasValidAuthority(req("http://x/a", "")), "empty first");
    assert.ok(hasValidAuthority(req("http://x/a", "x")));
    assert.ok(hasValidAuthority(req("http://x/a", "x")), "remembered");
    assert.ok(!hasValidAuthority(req("http://x/a", "")), "empty after");
    assert.ok(!hasValidAuthority(req("http://x/a", "x/a")), "bad after");
    assert.ok(
      hasValidAuthority(req("http://[::1]/a", "[::1]:80")),
      "Bun's form",
    );
  });
});
