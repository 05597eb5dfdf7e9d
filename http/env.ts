/**
 * Reads the environment variable `name` on Deno or Bun, as unset when the
 * process may not read it: on Deno the permission is asked of
 * `Deno.permissions` first, so reading never prompts and never throws. The
 * one environment reader of CQI: `serve` (`PORT`), tracing (`OTEL_*`) and
 * config's per-variable reads use it.
 *
 * @example Usage
 * ```ts
 * import { readEnv } from "@cqi/http";
 *
 * const port = readEnv("PORT") ?? "8080";
 * console.log(typeof port); // "string"
 * ```
 *
 * @param name The variable's name.
 * @returns Its value, or `undefined` when it is unset or may not be read.
 */
export function readEnv(name: string): string | undefined {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno?.env !== undefined) {
    const { state } = deno.permissions.querySync({
      name: "env",
      variable: name,
    });
    return state === "granted" ? deno.env.get(name) : undefined;
  }
  return (globalThis as {
    process?: { env: Record<string, string | undefined> };
  }).process?.env[name];
}
