// The Standard Schema v1 interface (https://standardschema.dev), copied as
// the specification invites, so that accepting any schema library costs no
// dependency. Only the comments and the examples are CQI's.

/**
 * A schema of any library that implements Standard Schema v1 (valibot, zod,
 * ArkType, ...): what {@linkcode readJson} validates a body with. Its
 * `~standard.validate` returns the typed value or the issues, possibly as a
 * promise.
 *
 * @example Usage
 * ```ts
 * import * as v from "valibot";
 * import type { StandardSchemaV1 } from "@cqi/errors";
 *
 * const Order = v.object({ quantity: v.number() });
 * const schema: StandardSchemaV1<unknown, { quantity: number }> = Order;
 * type Out = StandardSchemaV1.InferOutput<typeof Order>; // { quantity: number }
 * const out: Out = { quantity: 1 };
 * console.log(schema["~standard"].vendor, out); // "valibot" { quantity: 1 }
 * ```
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What it returns once valid.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": StandardSchemaV1.Props<Input, Output>;
}

/**
 * The Standard Schema v1 types: a schema's `~standard` properties, what
 * `validate` returns, its issues, and `InferInput` / `InferOutput`.
 *
 * @example Usage
 * ```ts
 * import type { StandardSchemaV1 } from "@cqi/errors";
 *
 * const issue: StandardSchemaV1.Issue = {
 *   message: "must be a number",
 *   path: ["items", 0, { key: "quantity" }],
 * };
 * ```
 */
export declare namespace StandardSchemaV1 {
  /** The properties under `~standard`. */
  export interface Props<Input = unknown, Output = Input> {
    /** The version of the standard: `1`. */
    readonly version: 1;
    /** The library that made the schema, such as `"valibot"`. */
    readonly vendor: string;
    /** Validates a value: the typed value, or the issues. */
    readonly validate: (
      value: unknown,
    ) => Result<Output> | Promise<Result<Output>>;
    /** The input and output types, for inference only. */
    readonly types?: Types<Input, Output> | undefined;
  }

  /** What `validate` returns. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;

  /** A valid value. */
  export interface SuccessResult<Output> {
    /** The typed value. */
    readonly value: Output;
    /** No issues. */
    readonly issues?: undefined;
  }

  /** An invalid value. */
  export interface FailureResult {
    /** What is wrong with it. */
    readonly issues: ReadonlyArray<Issue>;
  }

  /** One problem with a value. */
  export interface Issue {
    /** What is wrong. */
    readonly message: string;
    /** Where: the keys from the root down to the bad value. */
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }

  /** A key in an issue's path, as an object. */
  export interface PathSegment {
    /** The key. */
    readonly key: PropertyKey;
  }

  /** The input and output types of a schema. */
  export interface Types<Input = unknown, Output = Input> {
    /** What the schema accepts. */
    readonly input: Input;
    /** What it returns once valid. */
    readonly output: Output;
  }

  /** The input type of a schema. */
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<
    Schema["~standard"]["types"]
  >["input"];

  /** The output type of a schema. */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<
    Schema["~standard"]["types"]
  >["output"];
}
