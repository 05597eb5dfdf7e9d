import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { serve } from "@cqi/http";
import { createHttpClient } from "@cqi/httpclient";
import { createLogger, type Logger, memorySink } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { FakeClock } from "./testdata/fake_clock.ts";
import { httpClientHooks } from "./mod.ts";

describe("httpClientHooks", () => {
  const sink = memorySink();
  const logger = createLogger({ service: { name: "cqpm" }, output: sink });
  after(() => logger.close());

  it("times attempts by host, method and status class, with bounded labels", async () => {
    await using server = serve((req) => {
      const path = new URL(req.url).pathname;
      return new Response("secret-body", {
        status: path === "/missing" ? 404 : path === "/down" ? 503 : 200,
      });
    }, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
      onListen: () => {},
    });
    const host = `127.0.0.1:${server.addr.port}`;
    const registry = createRegistry({
      namespace: "cqpm",
      defaultMetrics: false,
    });
    await using client = createHttpClient({
      baseUrl: `http://${host}`,
      retry: { maxAttempts: 2, initialDelay: 1 },
      breaker: false,
      hooks: httpClientHooks({ registry, maxHosts: 1 }),
    });
    await (await client("/ok?token=secret-query")).text();
    await client("/missing").catch(() => {});
    await client("/down").catch(() => {});
    await (await client("/ok", { method: "PROPFIND" })).text();
    await client("http://localhost:1/").catch(() => {}); // another host: TypeError before any attempt
    const hooks = httpClientHooks({ registry, maxHosts: 0 });
    hooks.onRequest({
      host: "a.example",
      method: "GET",
      attempt: 1,
      duration: 5,
      error: new Error("x"),
    });
    const text = await registry.metrics();
    const count = (h: string, method: string, cls: string) =>
      `cqpm_http_client_request_duration_seconds_count{host="${h}",method="${method}",status_class="${cls}"}`;
    for (
      const line of [
        `${count(host, "GET", "2xx")} 1`,
        `${count(host, "GET", "4xx")} 1`,
        `${count(host, "GET", "5xx")} 2`,
        `${count(host, "OTHER", "2xx")} 1`,
        `${count("other", "GET", "unknown")} 1`,
      ]
    ) assert.ok(text.includes(line), `${line}\nnot in\n${text}`);
    for (const secret of ["secret", "/ok", "PROPFIND"]) {
      assert.ok(!text.includes(secret), secret);
    }
  });

  it("logs breaker changes, throttled per host", () => {
    sink.clear();
    const clock = new FakeClock();
    const hooks = httpClientHooks({ logger, clock });
    hooks.onBreakerStateChange({ host: "a:1", from: "closed", to: "open" });
    hooks.onBreakerStateChange({ host: "a:1", from: "open", to: "half_open" });
    hooks.onBreakerStateChange({ host: "b:1", from: "closed", to: "open" });
    clock.time += 10_000;
    hooks.onBreakerStateChange({
      host: "a:1",
      from: "half_open",
      to: "closed",
    });
    assert.deepEqual(
      sink.records.map((r) => [r.level, r.message, r.host, r.to, r.suppressed]),
      [
        ["warn", "circuit breaker opened", "a:1", "open", undefined],
        ["warn", "circuit breaker opened", "b:1", "open", undefined],
        ["info", "circuit breaker state changed", "a:1", "closed", 1],
      ],
    );
  });

  it("never fails a call when the logger or registry fails", () => {
    const broken = {
      warn: () => {
        throw new Error("broken");
      },
    } as unknown as Logger;
    const hooks = httpClientHooks({ logger: broken });
    hooks.onBreakerStateChange({ host: "a", from: "closed", to: "open" });
    assert.throws(() => httpClientHooks({ maxHosts: -1 }), RangeError);
  });
});
