import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CqiError, isTimeout } from "@cqi/errors";
import { retry, withTimeout } from "./mod.ts";
import { deferred, FakeClock } from "./testdata/fake_clock.ts";

/** An operation that settles only when its signal aborts. */
function hang(seen: AbortSignal[] = []) {
  return ({ signal }: { signal: AbortSignal }) => {
    seen.push(signal);
    return new Promise<never>((_, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason))
    );
  };
}

describe("withTimeout", () => {
  it("returns fn's result in time and cancels its timer", async () => {
    const clock = new FakeClock({ auto: false });
    const result = await withTimeout(() => Promise.resolve(5), 100, { clock });
    assert.equal(result, 5);
    assert.equal(clock.pending, 0);
  });

  it("aborts fn's signal and throws a timeout CqiError at the deadline", async () => {
    const clock = new FakeClock({ auto: false });
    const seen: AbortSignal[] = [];
    const result = withTimeout(hang(seen), 250, { clock });
    clock.advance(249);
    assert.equal(seen[0].aborted, false);
    clock.advance(1);
    const error = await result.catch((e) => e);
    assert.ok(error instanceof CqiError);
    assert.equal(error.kind, "timeout");
    assert.equal(error.message, "timed out after 250 ms");
    assert.equal(seen[0].aborted, true);
    assert.equal(seen[0].reason, error);
  });

  it("rejects at the deadline even when fn ignores its signal", async () => {
    const clock = new FakeClock({ auto: false });
    const result = withTimeout(() => new Promise(() => {}), 10, { clock });
    clock.advance(10);
    await assert.rejects(result, (e) => isTimeout(e));
  });

  it("passes fn's own failure through", async () => {
    const clock = new FakeClock({ auto: false });
    await assert.rejects(
      withTimeout(
        () => {
          throw new Error("own failure");
        },
        10,
        { clock },
      ),
      /own failure/,
    );
    assert.equal(clock.pending, 0);
  });

  it("follows the caller's signal, throwing its reason", async () => {
    const clock = new FakeClock({ auto: false });
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    const result = withTimeout(hang(seen), 1_000, {
      clock,
      signal: controller.signal,
    });
    const reason = new Error("client went away");
    controller.abort(reason);
    await assert.rejects(result, (e) => e === reason);
    assert.equal(seen[0].reason, reason);
    assert.equal(clock.pending, 0);
  });

  it("does not call fn when the caller's signal is already aborted", async () => {
    let called = false;
    await assert.rejects(
      withTimeout(
        () => {
          called = true;
        },
        10,
        { signal: AbortSignal.abort(new Error("early")) },
      ),
      /early/,
    );
    assert.equal(called, false);
  });

  it("works on the real clock", async () => {
    const error = await withTimeout(hang(), 5).catch((e) => e);
    assert.ok(isTimeout(error));
    assert.equal(await withTimeout(() => "fast", 1_000), "fast");
  });

  it("gives each retry attempt its own deadline", async () => {
    const clock = new FakeClock({ auto: false });
    const attempts: number[] = [];
    const started = [deferred(), deferred()];
    const retrying = deferred();
    const result = retry(({ attempt, signal }) =>
      withTimeout(
        ({ signal }) => {
          attempts.push(attempt);
          started[attempt - 1].resolve();
          if (attempt === 1) return hang()({ signal });
          return "second time lucky";
        },
        1_000,
        { signal, clock },
      ), {
      clock,
      jitter: 0,
      onRetry: ({ error, delay }) => {
        assert.ok(isTimeout(error));
        assert.equal(delay, 100);
        retrying.resolve();
      },
    });
    await started[0].promise;
    clock.advance(1_000); // the first attempt times out
    await retrying.promise;
    clock.advance(100); // the backoff
    assert.equal(await result, "second time lucky");
    assert.deepEqual(attempts, [1, 2]);
  });

  it("rejects bad arguments", async () => {
    await assert.rejects(withTimeout(() => 1, -1), {
      name: "RangeError",
      message: /ms must be/,
    });
    await assert.rejects(withTimeout(() => 1, NaN), RangeError);
    await assert.rejects(
      withTimeout(undefined as unknown as () => void, 1),
      TypeError,
    );
  });
});
