import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { kindOf } from "@cqi/errors";
import { createHttpClient } from "./mod.ts";
import { httpServer } from "./testdata/servers.ts";

const redirect = (status: number, location: string) =>
  new Response(null, { status, headers: { location } });

describe("redirects", () => {
  it("follows one under the base URL, with the headers and the credentials", async () => {
    const seen: string[] = [];
    await using server = httpServer((req) => {
      const { pathname, search } = new URL(req.url);
      seen.push(`${pathname}${search} ${req.headers.get("authorization")}`);
      return pathname === "/v1/old"
        ? redirect(301, "/v1/new?page=2")
        : new Response("moved");
    });
    await using client = createHttpClient({
      baseUrl: `http://u:p@${server.url.slice(7)}/v1/`,
    });
    const res = await client("old");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "moved");
    assert.deepEqual(seen, ["/v1/old Basic dTpw", "/v1/new?page=2 Basic dTpw"]);
  });

  it("303 (and 301/302 after a POST) becomes a GET without body; 307 and 308 keep both", async () => {
    const seen: string[] = [];
    await using server = httpServer(async (req) => {
      const { pathname } = new URL(req.url);
      seen.push(
        `${req.method} ${pathname} ${await req.text()} ${
          req.headers.get("content-type") ?? "-"
        }`,
      );
      const status = Number(pathname.slice(1));
      return status > 0 ? redirect(status, "/done") : new Response("ok");
    });
    await using client = createHttpClient({ baseUrl: server.url });
    for (const status of [301, 302, 303, 307, 308]) {
      const res = await client(`/${status}`, {
        method: "POST",
        body: "x=1",
        headers: { "content-type": "text/plain" },
      });
      assert.equal(await res.text(), "ok");
    }
    const plain = "POST /done x=1 text/plain";
    assert.deepEqual(seen.filter((line) => line.includes("/done")), [
      "GET /done  -",
      "GET /done  -",
      "GET /done  -",
      plain,
      plain,
    ]);
  });

  it("refuses one to another host: permanent, no secret sent there, not retried, breaker untouched", async () => {
    await using foreign = httpServer(() => new Response("stolen"));
    await using server = httpServer(() =>
      redirect(
        302,
        `${foreign.url.replace("127.0.0.1", "localhost")}/x?k=SECRET`,
      )
    );
    const changes: string[] = [];
    await using client = createHttpClient({
      baseUrl: server.url,
      headers: { "x-api-key": "K" },
      breaker: { failureThreshold: 1 },
      hooks: { onBreakerStateChange: ({ to }) => changes.push(to) },
    });
    for (let i = 0; i < 2; i++) {
      const error = await client("/").catch((e) => e);
      assert.equal(kindOf(error), "permanent");
      assert.match(error.message, /redirect.*302.*localhost:\d+/);
      assert.doesNotMatch(error.message, /SECRET|\/x/);
    }
    assert.equal(foreign.hits, 0);
    assert.equal(server.hits, 2);
    assert.deepEqual(changes, []);
  });

  it("refuses one out of the base URL's path", async () => {
    const seen: string[] = [];
    await using server = httpServer((req) => {
      seen.push(new URL(req.url).pathname);
      return redirect(302, "/admin/secret");
    });
    await using client = createHttpClient({ baseUrl: `${server.url}/v1/` });
    const error = await client("x").catch((e) => e);
    assert.equal(kindOf(error), "permanent");
    assert.deepEqual(seen, ["/v1/x"]);
  });

  it("gives up after 5 (a loop): permanent, not retried", async () => {
    await using server = httpServer(() => redirect(302, "/loop"));
    const changes: string[] = [];
    await using client = createHttpClient({
      baseUrl: server.url,
      breaker: { failureThreshold: 1 },
      hooks: { onBreakerStateChange: ({ to }) => changes.push(to) },
    });
    const error = await client("/loop").catch((e) => e);
    assert.equal(kindOf(error), "permanent");
    assert.match(error.message, /redirects/);
    assert.equal(server.hits, 6);
    assert.deepEqual(changes, []);
  });

  it('returns the 3xx as is with redirect: "manual", fails on it with "error"', async () => {
    await using server = httpServer(() => redirect(302, "/there?q=1"));
    await using client = createHttpClient({ baseUrl: server.url });
    const res = await client("/", { redirect: "manual" });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "/there?q=1");
    await res.body?.cancel();
    const error = await client("/", { redirect: "error" }).catch((e) => e);
    assert.equal(kindOf(error), "permanent");
    assert.equal(server.hits, 2);
  });
});
