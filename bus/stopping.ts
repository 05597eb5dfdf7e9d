// The signal of a subscription that started closing, carried on each
// message under a private symbol (copied by `{ ...message }`), so that the
// retry middleware stops waiting at once while handlers in flight finish.
import type { Message } from "./types.ts";

/** The key of the closing signal on a delivered message. */
export const STOPPING: unique symbol = Symbol("cqi.bus.stopping");

const NEVER = new AbortController().signal;

/** The closing signal of the subscription that delivered `message`. */
export function stoppingOf(message: Message): AbortSignal {
  return (message as { [STOPPING]?: AbortSignal })[STOPPING] ?? NEVER;
}
