/**
 * Calls `listener` on each of `signals`, on Deno (`Deno.addSignalListener`)
 * or Bun (`process.on`), and returns the function that removes it again. A
 * signal the platform cannot listen for (SIGTERM on Windows) is skipped.
 * The one signal helper of CQI: `serve` and `@cqi/service`'s `run` use it.
 *
 * @example Usage
 * ```ts
 * import { onSignals } from "@cqi/http";
 *
 * const remove = onSignals(["SIGTERM", "SIGINT"], () => console.log("stop"));
 * remove();
 * ```
 *
 * @param signals The signals, such as `["SIGTERM", "SIGINT"]`.
 * @param listener Called on each.
 * @returns A function that removes the listener from every signal.
 */
export function onSignals(
  signals: readonly ("SIGTERM" | "SIGINT" | "SIGHUP" | "SIGQUIT")[],
  listener: () => void,
): () => void {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno?.addSignalListener !== undefined) {
    const added = signals.filter((name) => {
      try {
        deno.addSignalListener(name, listener);
        return true;
      } catch {
        return false; // not supported here (SIGTERM on Windows)
      }
    });
    return () => {
      for (const name of added) deno.removeSignalListener(name, listener);
    };
  }
  const proc = (globalThis as {
    process?: {
      on(event: string, listener: () => void): unknown;
      off(event: string, listener: () => void): unknown;
    };
  }).process;
  for (const name of signals) proc?.on(name, listener);
  return () => {
    for (const name of signals) proc?.off(name, listener);
  };
}
