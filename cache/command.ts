import type { CommandInfo } from "./hooks.ts";

type OnCommand = (
  info: Readonly<CommandInfo>,
  run: () => Promise<unknown>,
) => Promise<unknown>;

/**
 * Runs a backend command through an onCommand hook. The command runs at
 * most once; the caller gets the command's own outcome whatever the hook
 * does with it, the hook's error only when the command never ran, and a
 * TypeError when the hook returned without running it.
 */
export function hookedCommand<T>(
  onCommand: OnCommand,
  info: CommandInfo,
  run: () => Promise<T>,
): Promise<T> {
  let outcome: Promise<T> | undefined;
  let settled = false;
  const once = () => {
    if (settled) {
      return Promise.reject(
        new TypeError("cache: onCommand called run() after it returned"),
      );
    }
    if (outcome !== undefined) {
      return Promise.reject(
        new TypeError("cache: onCommand called run() twice"),
      );
    }
    outcome = run();
    // Handled here: the hook may drop it; the caller gets it below.
    outcome.catch(() => {});
    return outcome;
  };
  let hooked: unknown;
  try {
    hooked = onCommand(info, once);
  } catch (error) {
    hooked = Promise.reject(error);
  }
  const ran = () => {
    settled = true;
    return outcome ??
      Promise.reject(
        new TypeError("cache: onCommand returned without calling run()"),
      );
  };
  return Promise.resolve(hooked).then(ran, (error) => {
    settled = true;
    return outcome ?? Promise.reject(error);
  });
}
