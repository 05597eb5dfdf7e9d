import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Lock } from "./lock.ts";

describe("Lock", () => {
  it("hands the lock over first come, first served", async () => {
    const lock = new Lock();
    const order: number[] = [];
    const first = await lock.acquire().promise;
    const waiters = [1, 2, 3].map((n) =>
      lock.acquire().promise.then((release) => {
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

  it("lets a waiter leave the queue; cancelling a granted place does nothing", async () => {
    const lock = new Lock();
    const granted = lock.acquire();
    const release = await granted.promise;
    const waiting = lock.acquire();
    waiting.cancel(new Error("gave up"));
    await assert.rejects(waiting.promise, /gave up/);
    assert.equal(lock.waiting, 0);
    granted.cancel(new Error("too late"));
    assert.equal(lock.held, true);
    release();
    assert.equal(lock.held, false);
  });
});
