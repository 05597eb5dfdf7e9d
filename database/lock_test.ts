import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Lock } from "./lock.ts";

describe("Lock", () => {
  it("hands the lock over first come, first served", async () => {
    const lock = new Lock();
    const order: number[] = [];
    const first = await lock.acquire(new AbortController().signal);
    const waiters = [1, 2, 3].map((n) =>
      lock.acquire(new AbortController().signal).then((release) => {
        order.push(n);
        release();
      })
    );
    assert.equal(lock.waiting, 3);
    first();
    first(); // a second release does nothing
    await Promise.all(waiters);
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(lock.held, false);
  });

  it("drops a waiter whose signal aborts, and refuses an aborted one", async () => {
    const lock = new Lock();
    const release = await lock.acquire(new AbortController().signal);
    const controller = new AbortController();
    const waiting = lock.acquire(controller.signal);
    controller.abort(new Error("gave up"));
    await assert.rejects(waiting, /gave up/);
    assert.equal(lock.waiting, 0);
    await assert.rejects(
      lock.acquire(AbortSignal.abort(new Error("late"))),
      /late/,
    );
    release();
    assert.equal(lock.held, false);
  });
});
