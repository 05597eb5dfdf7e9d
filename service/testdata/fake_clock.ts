// A manual clock for runner tests: retry's fake clock (its timers and
// `advance`), stepped from deadline to deadline. Not published.
import { FakeClock as RetryClock } from "../../retry/testdata/fake_clock.ts";
import type { Clock } from "@cqi/retry";

/** Sleeps wait until `next()` moves time to their deadline (or their signal aborts). */
export class FakeClock extends RetryClock implements Clock {
  constructor() {
    super({ auto: false });
  }

  /** Moves time to the earliest pending deadline, fires what is due, lets the callbacks run. */
  async next(): Promise<void> {
    await settle();
    const at = this.nextDeadline;
    if (at === undefined) return;
    this.advance(at - this.time);
    await settle();
  }

  /** Calls `next()` until `done()` holds; fails after `limit` steps. */
  async until(done: () => boolean, limit = 200): Promise<void> {
    for (let i = 0; i < limit && !done(); i++) await this.next();
    if (!done()) throw new Error("condition not reached");
  }
}

/** Lets pending promise callbacks run (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
