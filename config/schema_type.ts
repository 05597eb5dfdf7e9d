/**
 * A valibot schema whose output is `T`: what {@linkcode loadConfig} takes
 * and what the section schemas in {@linkcode cqiSections} are. Any valibot
 * schema fits (`v.object(...)`, `v.optional(...)`, a pipe); the type only
 * spells out the parts of valibot's `BaseSchema` that CQI relies on, so that
 * this module's public API does not depend on valibot's type declarations.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import type { ConfigSchema } from "@cqi/config";
 *
 * const limits: ConfigSchema<{ maxOrders: number }> = v.object({
 *   maxOrders: v.optional(v.number(), 100),
 * });
 * ```
 *
 * @typeParam T The validated output.
 */
export interface ConfigSchema<T = unknown> {
  /** Always `"schema"`. */
  readonly kind: "schema";
  /** The schema type, such as `object`, `optional` or `string`. */
  readonly type: string;
  /** What the schema expects, for messages. */
  readonly expects: string;
  /** Config schemas are synchronous. */
  readonly async: false;
  /** The valibot function that built the schema. */
  // deno-lint-ignore no-explicit-any
  readonly reference: (...args: any[]) => any;
  /** Runs the schema (valibot internal). */
  // deno-lint-ignore no-explicit-any
  readonly "~run": (dataset: any, config: any) => any;
  /** The Standard Schema interface. */
  readonly "~standard": {
    /** The Standard Schema version. */
    readonly version: 1;
    /** The library: valibot. */
    readonly vendor: "valibot";
    /** Validates a value. */
    // deno-lint-ignore no-explicit-any
    readonly validate: (value: unknown) => any;
    /** The input and output types, for inference only. */
    readonly types?:
      | { readonly input: unknown; readonly output: T }
      | undefined;
  };
  /** The input, output and issue types, for inference only. */
  readonly "~types"?: {
    /** The accepted input. */
    readonly input: unknown;
    /** The validated output. */
    readonly output: T;
    /** The issues it reports. */
    // deno-lint-ignore no-explicit-any
    readonly issue: any;
  } | undefined;
}
