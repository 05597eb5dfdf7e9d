// Timeouts for many calls without a timer per call (a timer costs about
// 1.3 µs to set and clear on Deno, more than the rest of a statement's
// bookkeeping): calls due within the same slot share one timer. A slot is
// about 1/64 of the timeout (a power of two in milliseconds, so 2 ms for
// 200 ms and 256 ms for 30 s): a call expires at most that much late. A
// slot's timer stays set when its calls finish early (so a stream of calls
// sets one timer per slot, not one per call), but keeps the process alive
// only while a call is due in it.

interface Slot {
  readonly due: Set<() => void>;
  readonly timer: unknown;
}

const slots = new Map<number, Slot>();

/** A scheduled expiry; `cancel` removes it. */
export interface Expiry {
  cancel(): void;
}

const NEVER: Expiry = { cancel() {} };

/**
 * Calls `onExpire` once, `ms` milliseconds after `start` (a
 * `performance.now()` time, default now; up to ~1/64 of `ms` later), or
 * never when `ms` is Infinity; each call must pass a function of its own.
 */
export function expireAfter(
  ms: number,
  onExpire: () => void,
  start: number = performance.now(),
): Expiry {
  if (ms === Infinity) return NEVER;
  const grain = 2 ** Math.max(0, Math.floor(Math.log2(ms / 64)));
  const key = Math.ceil((start + ms) / grain) * grain;
  let slot = slots.get(key);
  if (slot === undefined) {
    const due = new Set<() => void>();
    const timer = setTimeout(() => {
      slots.delete(key);
      for (const fn of due) fn();
    }, Math.max(0, key - performance.now()));
    slot = { due, timer };
    slots.set(key, slot);
  } else if (slot.due.size === 0) ref(slot.timer, true);
  slot.due.add(onExpire);
  const owner = slot;
  return {
    cancel: () => {
      if (owner.due.delete(onExpire) && owner.due.size === 0) {
        ref(owner.timer, false);
      }
    },
  };
}

// Keeps the process alive for the timer, or not (Bun's timers are objects
// with ref/unref, Deno's are numbers for Deno.refTimer/unrefTimer).
function ref(timer: unknown, on: boolean): void {
  if (typeof timer === "object" && timer !== null && "ref" in timer) {
    const t = timer as { ref(): void; unref(): void };
    if (on) t.ref();
    else t.unref();
  } else if (typeof timer === "number") {
    const deno = (globalThis as {
      Deno?: { refTimer(id: number): void; unrefTimer(id: number): void };
    }).Deno;
    if (on) deno?.refTimer(timer);
    else deno?.unrefTimer(timer);
  }
}
