import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { once } from "node:events";
import { temporary } from "@cqi/errors";
import { ListenerError } from "@cqi/http";
import { createLogger, memorySink } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createCircuitBreaker, retry } from "@cqi/retry";
import { FakeClock } from "../retry/testdata/fake_clock.ts";
import {
  bootstrap,
  breakerHooks,
  httpService,
  retryHooks,
  serverHooks,
} from "./mod.ts";

describe("retryHooks", () => {
  it("logs each retry and counts it by operation", async () => {
    const sink = memorySink();
    const logger = createLogger({ service: { name: "t" }, output: sink });
    const registry = createRegistry({ namespace: "t", defaultMetrics: false });
    let calls = 0;
    const result = await retry(() => {
      if (++calls < 3) throw temporary(`busy ${calls}`);
      return "ok";
    }, {
      clock: new FakeClock(),
      random: () => 0.5,
      ...retryHooks("place_order", { logger, registry }),
    });
    assert.equal(result, "ok");
    assert.deepEqual(
      sink.records.map((r) => [r.level, r.message, r.operation, r.attempt]),
      [
        ["warn", "retrying", "place_order", 1],
        ["warn", "retrying", "place_order", 2],
      ],
    );
    assert.equal(
      (sink.records[1].error as { message: string }).message,
      "busy 2",
    );
    assert.equal(typeof sink.records[0].delay_ms, "number");
    assert.match(
      await registry.metrics(),
      /^t_retry_attempts_total\{operation="place_order"\} 2$/m,
    );
  });

  it("works with neither logger nor registry, and refuses an empty name", () => {
    retryHooks("x").onRetry({ attempt: 1, error: new Error("e"), delay: 1 });
    assert.throws(() => retryHooks(""), /operation must be a non-empty/);
  });
});

describe("breakerHooks", () => {
  it("tracks the state in a gauge, counts transitions and logs them", async () => {
    const sink = memorySink();
    const logger = createLogger({ service: { name: "t" }, output: sink });
    const registry = createRegistry({ namespace: "t", defaultMetrics: false });
    const clock = new FakeClock();
    const breaker = createCircuitBreaker({
      name: "exchange",
      failureThreshold: 1,
      openFor: 1_000,
      clock,
      ...breakerHooks("exchange", { logger, registry }),
    });
    const gauge = async () =>
      /^t_circuit_breaker_state\{breaker="exchange"\} (\d)$/m.exec(
        await registry.metrics(),
      )?.[1];
    assert.equal(await gauge(), "0", "closed from the start");
    await breaker.execute(() => Promise.reject(new Error("down"))).catch(
      () => {},
    );
    assert.equal(await gauge(), "2");
    clock.advance(1_000);
    await breaker.execute(() => "up");
    assert.equal(await gauge(), "0");
    assert.deepEqual(
      sink.records.map((r) => [r.level, r.message, r.from, r.to]),
      [
        ["warn", "circuit breaker opened", "closed", "open"],
        ["info", "circuit breaker state changed", "open", "half_open"],
        ["info", "circuit breaker state changed", "half_open", "closed"],
      ],
    );
    const text = await registry.metrics();
    for (const to of ["open", "half_open", "closed"]) {
      assert.match(
        text,
        new RegExp(
          `^t_circuit_breaker_transitions_total\\{breaker="exchange",to="${to}"\\} 1$`,
          "m",
        ),
      );
    }
  });
});

describe("serverHooks", () => {
  it("logs server errors and counts them by kind: handler or listener", async () => {
    const sink = memorySink();
    const logger = createLogger({ service: { name: "t" }, output: sink });
    const registry = createRegistry({ namespace: "t", defaultMetrics: false });
    const hooks = serverHooks("api", { logger, registry });
    const count = async (kind: string) =>
      new RegExp(
        `^t_http_server_errors_total\\{server="api",kind="${kind}"\\} (\\d+)$`,
        "m",
      )
        .exec(await registry.metrics())?.[1];
    assert.equal(await count("handler"), "0", "both series from the start");
    assert.equal(await count("listener"), "0");
    const http = httpService(() => {
      throw new Error("bug in the handler");
    }, { port: 0, hostname: "127.0.0.1", name: "api", ...hooks });
    await http.start(AbortSignal.timeout(5_000));
    try {
      const res = await fetch(`http://127.0.0.1:${http.addr!.port}/`);
      assert.equal(res.status, 500);
      await res.body?.cancel();
    } finally {
      await http.stop(AbortSignal.timeout(5_000));
    }
    // what serve reports when an accept loop failed, say out of descriptors
    hooks.onError(new ListenerError(8080, 100, new Error("EMFILE")));
    assert.equal(await count("handler"), "1");
    assert.equal(await count("listener"), "1");
    assert.deepEqual(
      sink.records.map((r) => [
        r.level,
        r.message,
        r.server,
        (r.error as { type: string; message: string }).type,
      ]),
      [
        ["error", "server error", "api", "Error"],
        ["error", "server error", "api", "ListenerError"],
      ],
    );
    assert.equal(
      (sink.records[0].error as { message: string }).message,
      "bug in the handler",
    );
  });

  it("counts the requests the server answered itself, by reason, without a log line", async () => {
    const sink = memorySink();
    const logger = createLogger({ service: { name: "t" }, output: sink });
    const registry = createRegistry({ namespace: "t", defaultMetrics: false });
    const count = async (reason: string) =>
      new RegExp(
        `^t_http_requests_refused_total\\{server="api",reason="${reason}"\\} (\\d+)$`,
        "m",
      ).exec(await registry.metrics())?.[1];
    const http = httpService(() => new Response("ok"), {
      port: 0,
      hostname: "127.0.0.1",
      name: "api",
      ...serverHooks("api", { logger, registry }),
    });
    await http.start(AbortSignal.timeout(5_000));
    try {
      assert.equal(await count("invalid_host"), "0");
      const socket = connect({ host: "127.0.0.1", port: http.addr!.port });
      socket.end("GET / HTTP/1.1\r\nhost: x/health/..\r\n\r\n");
      let answer = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk) => answer += chunk);
      await once(socket, "close");
      assert.match(answer, /^HTTP\/1\.1 400/);
    } finally {
      await http.stop(AbortSignal.timeout(5_000));
    }
    assert.equal(await count("invalid_host"), "1");
    assert.equal(await count("shutting_down"), "0");
    assert.deepEqual(sink.records, []);
  });

  it("works with neither logger nor registry, and refuses an empty name", () => {
    serverHooks("http").onError(new Error("e"));
    assert.throws(() => serverHooks(""), /server must be a non-empty/);
  });
});

describe("bootstrap's hooks", () => {
  it("report to its logger and registry", async () => {
    const sink = memorySink();
    await using svc = bootstrap(
      { service: { name: "svc" }, metrics: { enabled: true } },
      { logOutput: sink, setDefaultLogger: false, defaultMetrics: false },
    );
    svc.retryHooks("fetch_prices").onRetry({
      attempt: 1,
      error: new Error("e"),
      delay: 10,
    });
    svc.breakerHooks("prices").onStateChange({ from: "closed", to: "open" });
    svc.serverHooks("http").onError(new Error("escaped"));
    const text = await svc.registry!.metrics();
    assert.match(
      text,
      /svc_retry_attempts_total\{operation="fetch_prices"\} 1/,
    );
    assert.match(text, /svc_circuit_breaker_state\{breaker="prices"\} 2/);
    assert.match(
      text,
      /svc_http_server_errors_total\{server="http",kind="handler"\} 1/,
    );
    assert.deepEqual(sink.records.map((r) => r.message), [
      "retrying",
      "circuit breaker opened",
      "server error",
    ]);
  });
});
