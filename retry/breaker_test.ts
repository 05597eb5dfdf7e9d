import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  canceled,
  CqiError,
  notFound,
  temporary,
  tooLarge,
  wrap,
} from "@cqi/errors";
import {
  type CircuitBreakerOptions,
  type CircuitState,
  createCircuitBreaker,
  retry,
} from "./mod.ts";
import { deferred, FakeClock } from "./testdata/fake_clock.ts";

const fail = (error: unknown = temporary("down")) => () =>
  Promise.reject(error);
const succeed = () => Promise.resolve("ok");

function setup(options: CircuitBreakerOptions = {}) {
  const clock = new FakeClock({ auto: false });
  const changes: string[] = [];
  const breaker = createCircuitBreaker({
    clock,
    onStateChange: ({ from, to }) => changes.push(`${from}->${to}`),
    ...options,
  });
  const failTimes = async (n: number, error?: unknown) => {
    for (let i = 0; i < n; i++) {
      await breaker.execute(fail(error)).catch(() => {});
    }
  };
  return { clock, changes, breaker, failTimes };
}

function openError(error: unknown): CqiError {
  assert.ok(error instanceof CqiError, String(error));
  assert.equal(error.kind, "temporary");
  return error;
}

describe("circuitBreaker", () => {
  it("passes results and errors through while closed", async () => {
    const { breaker } = setup();
    assert.equal(await breaker.execute(succeed), "ok");
    assert.equal(await breaker.execute(() => 7), 7);
    await assert.rejects(breaker.execute(fail(new Error("x"))), /x/);
    await assert.rejects(
      breaker.execute(() => {
        throw new Error("sync");
      }),
      /sync/,
    );
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.stateValue, 0);
  });

  it("opens after failureThreshold consecutive failures (default 5)", async () => {
    const { breaker, changes, failTimes } = setup();
    await failTimes(4);
    await breaker.execute(succeed); // resets the run
    await failTimes(4);
    assert.equal(breaker.state, "closed");
    await failTimes(1);
    assert.equal(breaker.state, "open");
    assert.equal(breaker.stateValue, 2);
    assert.deepEqual(changes, ["closed->open"]);
  });

  it("fails fast while open with a temporary error carrying retryAfter and the cause", async () => {
    const { breaker, clock, failTimes } = setup({
      name: "payments",
      failureThreshold: 2,
      openFor: 10_000,
    });
    const last = temporary("last failure");
    await failTimes(1);
    await failTimes(1, last);
    clock.advance(4_000);
    let called = false;
    const error = openError(
      await breaker.execute(() => {
        called = true;
      }).catch((e) => e),
    );
    assert.equal(called, false);
    assert.equal(error.retryAfter, 6_000);
    assert.equal(error.cause, last);
    assert.match(error.message, /circuit breaker "payments" is open/);
  });

  it("half-opens after openFor and closes after halfOpenMaxCalls successful probes", async () => {
    const { breaker, clock, changes, failTimes } = setup({
      failureThreshold: 1,
      openFor: 1_000,
      halfOpenMaxCalls: 2,
    });
    await failTimes(1);
    clock.advance(999);
    assert.equal(breaker.state, "open");
    clock.advance(1);
    assert.equal(breaker.state, "half_open");
    assert.equal(breaker.stateValue, 1);
    await breaker.execute(succeed);
    assert.equal(breaker.state, "half_open");
    await breaker.execute(succeed);
    assert.equal(breaker.state, "closed");
    assert.deepEqual(changes, [
      "closed->open",
      "open->half_open",
      "half_open->closed",
    ]);
  });

  it("lets at most halfOpenMaxCalls concurrent probes through", async () => {
    const { breaker, clock, failTimes } = setup({
      failureThreshold: 1,
      openFor: 1_000,
      halfOpenMaxCalls: 2,
    });
    await failTimes(1);
    clock.advance(1_000);
    const gates = [deferred<string>(), deferred<string>()];
    let entered = 0;
    const probes = gates.map((gate) =>
      breaker.execute(() => {
        entered++;
        return gate.promise;
      })
    );
    const extra = await breaker.execute(succeed).catch((e) => e);
    assert.equal(entered, 2);
    const rejected = openError(extra);
    assert.equal(rejected.retryAfter, undefined);
    assert.match(rejected.message, /half-open/);

    gates[0].resolve("first");
    assert.equal(await probes[0], "first");
    // One success and one probe still in flight: no slot left.
    await assert.rejects(breaker.execute(succeed), /half-open/);
    assert.equal(breaker.state, "half_open");
    gates[1].resolve("second");
    assert.equal(await probes[1], "second");
    assert.equal(breaker.state, "closed");
    assert.equal(await breaker.execute(succeed), "ok");
  });

  it("re-opens for a full openFor when a probe fails", async () => {
    const { breaker, clock, changes, failTimes } = setup({
      failureThreshold: 3,
      openFor: 5_000,
      halfOpenMaxCalls: 3,
    });
    await failTimes(3);
    clock.advance(5_000);
    await breaker.execute(succeed);
    await failTimes(1);
    assert.equal(breaker.state, "open");
    const error = openError(await breaker.execute(succeed).catch((e) => e));
    assert.equal(error.retryAfter, 5_000);
    assert.deepEqual(changes, [
      "closed->open",
      "open->half_open",
      "half_open->open",
    ]);
  });

  it("frees a probe slot when a probe is aborted", async () => {
    const { breaker, clock, failTimes } = setup({
      failureThreshold: 1,
      openFor: 100,
    });
    await failTimes(1);
    clock.advance(100);
    await assert.rejects(
      breaker.execute(fail(new DOMException("gone", "AbortError"))),
    );
    assert.equal(breaker.state, "half_open");
    assert.equal(await breaker.execute(succeed), "ok");
    assert.equal(breaker.state, "closed");
  });

  it("ignores outcomes of calls that started in an earlier state", async () => {
    const { breaker, clock, failTimes } = setup({
      failureThreshold: 2,
      openFor: 1_000,
    });
    const slowFailure = deferred<never>();
    const slowSuccess = deferred<string>();
    const late1 = breaker.execute(() => slowFailure.promise);
    const late2 = breaker.execute(() => slowSuccess.promise);
    await failTimes(2);
    assert.equal(breaker.state, "open");
    slowSuccess.resolve("late");
    assert.equal(await late2, "late");
    assert.equal(breaker.state, "open"); // a stale success does not close it
    clock.advance(500);
    slowFailure.reject(temporary("late failure"));
    await assert.rejects(late1);
    const error = openError(await breaker.execute(succeed).catch((e) => e));
    assert.equal(error.retryAfter, 500); // the stale failure did not re-open it
  });

  it("counts the caller's own faults as successes and aborts as nothing", async () => {
    const { breaker, failTimes } = setup({ failureThreshold: 2 });
    await failTimes(1);
    await failTimes(1, notFound("order", 1));
    await failTimes(1);
    assert.equal(breaker.state, "closed");
    await failTimes(1, new DOMException("stop", "AbortError"));
    await failTimes(1);
    assert.equal(breaker.state, "open");
  });

  it("counts too_large as the caller's fault, a success", async () => {
    const { breaker, failTimes } = setup({ failureThreshold: 2 });
    await failTimes(1);
    await failTimes(1, tooLarge("body over 1 MiB"));
    await failTimes(1);
    assert.equal(breaker.state, "closed");
    await failTimes(1);
    assert.equal(breaker.state, "open");
  });

  it("counts canceled (the caller went away) as neither success nor failure", async () => {
    const { breaker, clock, failTimes } = setup({
      failureThreshold: 2,
      openFor: 100,
    });
    await failTimes(1);
    await failTimes(3, canceled("client went away"));
    assert.equal(breaker.state, "closed", "not a failure");
    await failTimes(1, wrap(canceled("gone"), "reading prices"));
    await failTimes(1);
    assert.equal(breaker.state, "open", "not a success either");
    // a canceled probe frees its slot and closes nothing
    clock.advance(100);
    await failTimes(1, canceled("gone"));
    assert.equal(breaker.state, "half_open");
    assert.equal(await breaker.execute(succeed), "ok");
    assert.equal(breaker.state, "closed");
  });

  it("uses isFailure when given", async () => {
    const { breaker, failTimes } = setup({
      failureThreshold: 1,
      isFailure: (error) => (error as Error).message === "counts",
    });
    await failTimes(3, new Error("ignored"));
    assert.equal(breaker.state, "closed");
    await failTimes(1, new Error("counts"));
    assert.equal(breaker.state, "open");
  });

  it("opens on failureRate once minimumRequests calls were seen", async () => {
    const { breaker, failTimes } = setup({
      failureRate: 0.5,
      minimumRequests: 4,
    });
    await breaker.execute(succeed);
    await failTimes(2); // 2 of 3 failed, but fewer than 4 calls
    assert.equal(breaker.state, "closed");
    await breaker.execute(succeed); // 2 of 4: a success never opens it
    assert.equal(breaker.state, "closed");
    await failTimes(1); // 3 of 5
    assert.equal(breaker.state, "open");
  });

  it("judges failureRate over the window only", async () => {
    const { breaker, clock, failTimes } = setup({
      failureRate: 0.5,
      minimumRequests: 4,
      window: 10_000,
    });
    await failTimes(3);
    clock.advance(10_001);
    await failTimes(1); // the old failures have left the window
    assert.equal(breaker.state, "closed");
    await failTimes(3);
    assert.equal(breaker.state, "open");
  });

  it("starts counting afresh after closing", async () => {
    const { breaker, clock, failTimes } = setup({
      failureRate: 0.5,
      minimumRequests: 2,
      openFor: 100,
    });
    await failTimes(2);
    clock.advance(100);
    await breaker.execute(succeed);
    assert.equal(breaker.state, "closed");
    await failTimes(1); // 1 call in the new window: below minimumRequests
    assert.equal(breaker.state, "closed");
  });

  it("reads the system clock by default", async () => {
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      openFor: 60_000,
    });
    await breaker.execute(fail()).catch(() => {});
    const error = openError(await breaker.execute(succeed).catch((e) => e));
    assert.ok(error.retryAfter! > 59_000 && error.retryAfter! <= 60_000);
  });

  it("rejects bad options and a non-function", async () => {
    assert.throws(() => createCircuitBreaker({ failureThreshold: 0 }), {
      name: "RangeError",
      message: /failureThreshold/,
    });
    assert.throws(
      () => createCircuitBreaker({ failureThreshold: 3, failureRate: 0.5 }),
      { name: "TypeError", message: /failureThreshold or failureRate/ },
    );
    assert.throws(
      () => createCircuitBreaker({ failureRate: 0 }),
      /failureRate/,
    );
    assert.throws(
      () => createCircuitBreaker({ failureRate: 1.1 }),
      /failureRate/,
    );
    assert.throws(
      () => createCircuitBreaker({ minimumRequests: 5 }),
      { name: "TypeError", message: /minimumRequests only applies/ },
    );
    assert.throws(
      () => createCircuitBreaker({ failureRate: 0.5, window: 0 }),
      /window/,
    );
    assert.throws(() => createCircuitBreaker({ openFor: -1 }), /openFor/);
    assert.throws(
      () => createCircuitBreaker({ halfOpenMaxCalls: 1.5 }),
      /halfOpenMaxCalls/,
    );
    await assert.rejects(
      createCircuitBreaker().execute(null as unknown as () => void),
      TypeError,
    );
  });
});

describe("circuitBreaker with retry", () => {
  it("waits out the open circuit instead of hammering it", async () => {
    const clock = new FakeClock();
    const states: CircuitState[] = [];
    const breaker = createCircuitBreaker({
      failureThreshold: 3,
      openFor: 10_000,
      clock,
      onStateChange: ({ to }) => states.push(to),
    });
    const attempts: number[] = [];
    const reached: number[] = [];
    const last = temporary("dependency down");
    const error = await retry(({ attempt }) => {
      attempts.push(attempt);
      return breaker.execute(() => {
        reached.push(clock.now());
        throw last;
      });
    }, { clock, jitter: 0 }).catch((e) => e);

    assert.equal(attempts.length, 10);
    // Three failures open it; after that only one probe per open period.
    assert.equal(reached.length, 6);
    assert.deepEqual(
      clock.sleeps,
      [100, 200, 400, 9_600, 1_600, 8_400, 5_000, 5_000, 5_000],
    );
    assert.deepEqual(states, [
      "open",
      "half_open",
      "open",
      "half_open",
      "open",
      "half_open",
      "open",
    ]);
    assert.equal(openError(error).cause, last);
  });

  it("gives up at once when the open period outlasts maxElapsed", async () => {
    const clock = new FakeClock();
    const breaker = createCircuitBreaker({ failureThreshold: 3, clock });
    let reached = 0;
    let attempts = 0;
    const error = await retry(() => {
      attempts++;
      return breaker.execute(() => {
        reached++;
        throw temporary("down");
      });
    }, { clock, jitter: 0, maxElapsed: 5_000 }).catch((e) => e);
    assert.equal(reached, 3);
    assert.equal(attempts, 4);
    // Opened at 300 ms (after waits of 100 and 200), asked again at 700 ms.
    assert.equal(openError(error).retryAfter, 30_300 - 700);
    assert.deepEqual(clock.sleeps, [100, 200, 400]);
  });
});

describe("circuitBreaker with a clock that goes backwards", () => {
  it("an hour's step back costs at most one openFor", async () => {
    const clock = new FakeClock({ start: 10_000_000 });
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      openFor: 1_000,
      clock,
    });
    await breaker.execute(() => Promise.reject(new Error("down"))).catch(
      () => {},
    );
    assert.equal(breaker.state, "open");
    clock.time -= 3_600_000;
    assert.equal(breaker.state, "open");
    clock.time += 999;
    assert.equal(breaker.state, "open");
    clock.time += 1;
    assert.equal(breaker.state, "half_open");
  });
});
