/**
 * Log levels, least to most severe. `silent` (only as a threshold) writes
 * nothing.
 *
 * @example Usage
 * ```ts
 * import type { LogLevel } from "@cqi/logging";
 *
 * const level: LogLevel = "debug";
 * ```
 */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/** Numeric severities; a call is written when its severity >= the threshold. */
export const SEVERITY: Readonly<Record<LogLevel | "silent", number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/** Parses a level name (any case), or returns `undefined`. */
export function parseLevel(
  value: string,
): LogLevel | "silent" | undefined {
  const name = value.trim().toLowerCase();
  return Object.hasOwn(SEVERITY, name)
    ? name as LogLevel | "silent"
    : undefined;
}

/**
 * The `LOG_LEVEL` environment variable, if set and readable. On Deno the
 * permission is queried first, so reading it never prompts.
 */
export function levelFromEnv(): string | undefined {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno?.permissions !== undefined) {
    const query = { name: "env", variable: "LOG_LEVEL" } as const;
    if (deno.permissions.querySync(query).state !== "granted") return;
    return deno.env.get("LOG_LEVEL") || undefined;
  }
  const process = (globalThis as {
    process?: { env: Record<string, string | undefined> };
  }).process;
  return process?.env.LOG_LEVEL || undefined;
}
