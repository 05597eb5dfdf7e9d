import * as v from "valibot";
import type { ConfigSchema } from "./valibot_adapter.ts";

const REDACTED = "[REDACTED]";

/**
 * A secret value (a password, token, API key or signing key) that never
 * prints: `String()`, template literals, `JSON.stringify`, `console.log`,
 * `util.inspect` and `Deno.inspect` all show `[REDACTED]`. Read it on purpose
 * with {@linkcode Secret.reveal}, at the point where it is used.
 *
 * @example Usage
 * ```ts
 * import { Secret } from "@cqi/config";
 *
 * const password = new Secret("hunter2");
 * console.log(`${password}`, JSON.stringify({ password })); // [REDACTED] {"password":"[REDACTED]"}
 * const dsn = `postgres://app:${password.reveal()}@db/app`;
 * ```
 */
export class Secret {
  #value: string;

  /**
   * Wraps a secret value.
   *
   * @param value The secret.
   */
  constructor(value: string) {
    this.#value = value;
  }

  /**
   * Returns the secret itself. Call it where the value is used (a connection
   * string, a header), never where it could be logged.
   *
   * @returns The wrapped value.
   */
  reveal(): string {
    return this.#value;
  }

  /**
   * Prints `[REDACTED]` instead of the value (`String()`, concatenation).
   *
   * @returns `[REDACTED]`.
   */
  toString(): string {
    return REDACTED;
  }

  /**
   * Serialises as `[REDACTED]`, so `JSON.stringify` never sees the value.
   *
   * @returns `[REDACTED]`.
   */
  toJSON(): string {
    return REDACTED;
  }

  /**
   * Converts to `[REDACTED]` for every hint (template literals, `+`).
   *
   * @returns `[REDACTED]`.
   */
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  /**
   * Shows `[REDACTED]` in `util.inspect` and in Bun's and Node's `console`.
   *
   * @returns `[REDACTED]`.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }

  /**
   * Shows `[REDACTED]` in `Deno.inspect` and Deno's `console`.
   *
   * @returns `[REDACTED]`.
   */
  [Symbol.for("Deno.customInspect")](): string {
    return REDACTED;
  }
}

/** Marks a schema as secret: kept out of error reports and documented so. */
export const SECRET_METADATA: { readonly secret: true } = { secret: true };

/**
 * A schema for a secret string: accepts a non-empty string and yields a
 * {@linkcode Secret}. Use it for any field of a service's own sections that
 * must never be printed; the loader also keeps its value out of error
 * reports.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import { cqiSections, loadConfig, secret } from "@cqi/config";
 *
 * const schema = v.object({
 *   ...cqiSections,
 *   exchange: v.object({ apiToken: secret() }),
 * });
 * const config = await loadConfig({
 *   schema,
 *   env: { CQI_SERVICE_NAME: "svc", CQI_EXCHANGE_API_TOKEN: "t0k3n" },
 *   envFile: false,
 * });
 * console.log(String(config.exchange.apiToken)); // [REDACTED]
 * ```
 *
 * @returns The schema.
 */
export function secret(): ConfigSchema<Secret> {
  return v.pipe(
    v.string("expected a string"),
    v.minLength(1, "expected a non-empty secret"),
    v.transform((value) => new Secret(value)),
    v.metadata(SECRET_METADATA),
  );
}
