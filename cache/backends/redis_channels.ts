// The channels of a driver's subscriber connection, the same for both
// drivers: each channel's callers, its first SUBSCRIBE's confirmation, and
// the listener that hands a message to every caller. The driver sends the
// commands; this keeps the books.

/** Hands one channel's message to its callers. */
export type Dispatch = (message: string) => void;

/** One caller of `RedisDriver.subscribe`. */
interface Caller {
  onMessage: (message: string) => void;
  onReconnect: () => void;
}

interface Channel {
  dispatch: Dispatch;
  callers: Set<Caller>;
  /** The first SUBSCRIBE's confirmation. */
  confirmed: Promise<unknown>;
}

/** The channels subscribed, and who listens to each. */
export class Channels {
  #channels = new Map<string, Channel>();

  /**
   * Adds a caller to `channel`. Only its first caller sends SUBSCRIBE
   * (`send`, which may throw); the others wait for that confirmation. A
   * SUBSCRIBE that fails is undone with `cancel`, and its late
   * confirmation delivers to nobody.
   */
  async add(
    channel: string,
    caller: Caller,
    send: (channel: string, dispatch: Dispatch) => Promise<unknown>,
    cancel: (channel: string, dispatch: Dispatch) => Promise<unknown>,
  ): Promise<void> {
    const existing = this.#channels.get(channel);
    if (existing) {
      await existing.confirmed;
      existing.callers.add(caller);
      return;
    }
    const callers = new Set([caller]);
    const dispatch = (message: string) => {
      for (const c of callers) safely(() => c.onMessage(message));
    };
    const confirmed = send(channel, dispatch);
    this.#channels.set(channel, { dispatch, callers, confirmed });
    try {
      await confirmed;
    } catch (error) {
      callers.clear();
      if (this.#channels.get(channel)?.callers === callers) {
        this.#channels.delete(channel);
      }
      cancel(channel, dispatch).catch(() => {});
      throw error;
    }
  }

  /** Hands a message to the channel's callers. */
  deliver(channel: string, message: string): void {
    this.#channels.get(channel)?.dispatch(message);
  }

  /**
   * After the subscriber (re)connected: subscribes every channel again with
   * `send`, then tells every caller that messages may have been lost. Does
   * nothing while there is no channel (as on the first connection).
   */
  async restore(
    send: (channels: [string, Dispatch][]) => Promise<unknown>,
  ): Promise<void> {
    if (this.#channels.size === 0) return;
    await send(
      [...this.#channels].map(([channel, { dispatch }]) => [channel, dispatch]),
    );
    for (const { callers } of this.#channels.values()) {
      for (const c of callers) safely(c.onReconnect);
    }
  }

  /** Forgets every channel and caller. */
  clear(): void {
    this.#channels.clear();
  }
}

// A caller's callback that throws does not stop the others: its error is
// rethrown on its own, as an uncaught error of the caller's.
function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
