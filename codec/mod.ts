/**
 * Value codecs shared by `@cqi/cache` and `@cqi/bus`: how a value becomes
 * bytes and back. Both accept a {@linkcode ValueSchema}, which is either a
 * protobuf-es v2 message schema as generated (`AssetSchema`) or a
 * {@linkcode Codec} `{ name, contentType, encode, decode }`:
 *
 * - {@linkcode protobuf}: the binary wire format of a message schema, which
 *   {@linkcode toCodec} picks for a bare schema;
 * - {@linkcode json}: JSON as UTF-8, validated on decode with any Standard
 *   Schema (valibot, zod, ...);
 * - {@linkcode bytes}: raw bytes, as they are.
 *
 * Decoding never crashes on bad bytes: truncated, garbage, not UTF-8, nested
 * too deeply or rejected by the schema, it throws a `CqiError` of kind
 * `invalid_input` whose message names the type and quotes nothing of the
 * input.
 *
 * @example Usage
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { TimestampSchema } from "@bufbuild/protobuf/wkt";
 * import * as v from "valibot";
 * import { isInvalidInput } from "@cqi/errors";
 * import { json, toCodec } from "@cqi/codec";
 *
 * // A protobuf schema, as cache and bus methods accept it
 * const timestamps = toCodec(TimestampSchema);
 * const at = create(TimestampSchema, { seconds: 1_700_000_000n });
 * console.log(timestamps.decode(timestamps.encode(at)).seconds); // 1700000000n
 *
 * // JSON checked by a valibot schema
 * const quotes = json(v.object({ symbol: v.string(), price: v.number() }), {
 *   name: "Quote",
 * });
 * const bytes = quotes.encode({ symbol: "BTC", price: 101.5 });
 * console.log(quotes.contentType, quotes.decode(bytes).price); // "application/json" 101.5
 *
 * try {
 *   timestamps.decode(new Uint8Array([0xff, 0xff]));
 * } catch (error) {
 *   console.log(isInvalidInput(error), (error as Error).message);
 *   // true "invalid google.protobuf.Timestamp: data ends early"
 * }
 * ```
 *
 * @module
 */
export {
  type Codec,
  toCodec,
  type ValueOf,
  type ValueSchema,
} from "./codec.ts";
export { protobuf } from "./protobuf.ts";
export { json, type JsonOptions } from "./json.ts";
export { bytes } from "./bytes.ts";
