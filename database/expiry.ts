// Timeouts for many calls without a timer per call (a timer costs about
// 1.3 µs to set and clear on Deno, more than the rest of a statement's
// bookkeeping): calls due within the same slot share one timer. A slot is
// about 1/64 of the timeout (a power of two in milliseconds, so 2 ms for
// 200 ms and 256 ms for 30 s): a call expires at most that much late.

interface Slot {
  readonly due: Set<() => void>;
  readonly timer: ReturnType<typeof setTimeout>;
}

const slots = new Map<number, Slot>();

/** A scheduled expiry; `cancel` removes it. */
export interface Expiry {
  cancel(): void;
}

/** Calls `onExpire` once, `ms` milliseconds from now (up to ~1/64 later). */
export function expireAfter(ms: number, onExpire: () => void): Expiry {
  const grain = 2 ** Math.max(0, Math.floor(Math.log2(ms / 64)));
  const key = Math.ceil((performance.now() + ms) / grain) * grain;
  let slot = slots.get(key);
  if (slot === undefined) {
    const due = new Set<() => void>();
    const timer = setTimeout(() => {
      slots.delete(key);
      for (const fn of due) fn();
    }, Math.max(0, key - performance.now()));
    slot = { due, timer };
    slots.set(key, slot);
  }
  const entry = () => onExpire();
  slot.due.add(entry);
  const owner = slot;
  return {
    cancel: () => {
      if (!owner.due.delete(entry) || owner.due.size > 0) return;
      clearTimeout(owner.timer);
      if (slots.get(key) === owner) slots.delete(key);
    },
  };
}
