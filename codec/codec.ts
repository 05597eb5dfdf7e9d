import type { DescMessage, MessageShape } from "./protobuf_types.ts";
import { protobuf } from "./protobuf.ts";

/**
 * Turns values of one type into bytes and back: what a cache stores and a
 * bus carries. Made by {@linkcode protobuf}, {@linkcode json} or
 * {@linkcode bytes}, or written by hand for any other encoding.
 *
 * `decode` is synchronous and, for bytes it cannot read, throws nothing but
 * a `CqiError` of kind `invalid_input` whose message starts
 * `invalid <name>:` and never quotes the bytes.
 *
 * @example Usage
 * ```ts
 * import { CqiError, invalidInput } from "@cqi/errors";
 * import type { Codec } from "@cqi/codec";
 *
 * // A hand-written codec: a decimal number as UTF-8 text.
 * const decimal: Codec<number> = {
 *   name: "decimal",
 *   contentType: "text/plain",
 *   encode: (value) => new TextEncoder().encode(String(value)),
 *   decode: (bytes) => {
 *     const value = Number(new TextDecoder().decode(bytes));
 *     if (Number.isNaN(value)) throw invalidInput("invalid decimal: not a number");
 *     return value;
 *   },
 * };
 * console.log(decimal.decode(decimal.encode(1.5))); // 1.5
 * try {
 *   decimal.decode(new Uint8Array([0x78]));
 * } catch (error) {
 *   console.log(error instanceof CqiError && error.kind); // "invalid_input"
 * }
 * ```
 *
 * @typeParam T The value type.
 */
export interface Codec<T> {
  /**
   * The type name used in error messages and headers:
   * `cqc.entities.v1.Asset`, `JSON`, `bytes`.
   */
  readonly name: string;
  /**
   * The MIME type of the encoding: `application/x-protobuf`,
   * `application/json`, `application/octet-stream`.
   */
  readonly contentType: string;
  /**
   * True when `decode` never returns a view of the bytes it was given (as
   * `json`'s does: it makes new strings). Holders of shared bytes, such as
   * the cache, then decode them without copying them first. Absent: false.
   */
  readonly fresh?: boolean;
  /**
   * Encodes a value; a value the encoding cannot represent throws an
   * `invalid_input` `CqiError` naming the type.
   */
  encode(value: T): Uint8Array;
  /**
   * Decodes bytes, synchronously. Bytes that are not a valid value throw an
   * `invalid_input` `CqiError` whose message names the type
   * (`invalid cqc.entities.v1.Asset: ...`), never another error.
   */
  decode(bytes: Uint8Array): T;
}

/**
 * What cache and bus methods accept to say how values are stored: a
 * protobuf-es v2 message schema (`AssetSchema` as generated, a
 * `DescMessage`) or a {@linkcode Codec}.
 *
 * @example Usage
 * ```ts
 * import { TimestampSchema } from "@bufbuild/protobuf/wkt";
 * import { json, type ValueSchema } from "@cqi/codec";
 *
 * const schemas: ValueSchema[] = [TimestampSchema, json()];
 * console.log(schemas.length); // 2
 * ```
 */
export type ValueSchema = DescMessage | Codec<unknown>;

/**
 * The value type a {@linkcode ValueSchema} stands for: the message type for
 * a protobuf schema, `T` for a `Codec<T>`.
 *
 * @example Usage
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { TimestampSchema } from "@bufbuild/protobuf/wkt";
 * import { bytes, toCodec, type ValueOf, type ValueSchema } from "@cqi/codec";
 *
 * // How a cache or a bus method types its values
 * function roundTrip<S extends ValueSchema>(schema: S, value: ValueOf<S>): ValueOf<S> {
 *   const codec = toCodec(schema);
 *   return codec.decode(codec.encode(value));
 * }
 * const at = roundTrip(TimestampSchema, create(TimestampSchema, { seconds: 5n }));
 * console.log(at.seconds, roundTrip(bytes, new Uint8Array([1])).length); // 5n 1
 * ```
 *
 * @typeParam S The schema.
 */
export type ValueOf<S extends ValueSchema> = S extends DescMessage
  ? MessageShape<S>
  : S extends Codec<infer T> ? T
  : never;

/**
 * Resolves a {@linkcode ValueSchema} to a {@linkcode Codec}: a protobuf
 * schema to its {@linkcode protobuf} codec, a codec to itself. The protobuf
 * codec is made once per schema object and kept in a `WeakMap`, so calling
 * this per operation costs one lookup.
 *
 * @example Usage
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { TimestampSchema } from "@bufbuild/protobuf/wkt";
 * import { toCodec } from "@cqi/codec";
 *
 * const codec = toCodec(TimestampSchema);
 * const bytes = codec.encode(create(TimestampSchema, { seconds: 1_700_000_000n }));
 * console.log(codec.decode(bytes).seconds); // 1700000000n
 * console.log(codec === toCodec(TimestampSchema)); // true
 * ```
 *
 * @typeParam S The schema.
 * @param schema A protobuf-es message schema or a codec.
 * @returns The codec for it.
 * @throws {TypeError} When `schema` is neither.
 */
export function toCodec<S extends ValueSchema>(schema: S): Codec<ValueOf<S>> {
  if (isMessageSchema(schema)) {
    return protobuf(schema) as Codec<ValueOf<S>>;
  }
  if (isCodec(schema)) return schema as Codec<ValueOf<S>>;
  throw new TypeError(
    "toCodec: expected a protobuf-es message schema or a codec " +
      "{ name, contentType, encode, decode }",
  );
}

function isMessageSchema(schema: unknown): schema is DescMessage {
  return typeof schema === "object" && schema !== null &&
    (schema as { kind?: unknown }).kind === "message";
}

function isCodec(schema: unknown): schema is Codec<unknown> {
  if (typeof schema !== "object" || schema === null) return false;
  const codec = schema as Partial<Codec<unknown>>;
  return typeof codec.name === "string" &&
    typeof codec.contentType === "string" &&
    typeof codec.encode === "function" && typeof codec.decode === "function";
}
