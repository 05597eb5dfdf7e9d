import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type CqiError, invalidInput } from "@cqi/errors";
import type { Codec } from "./codec.ts";
import { assertBytes, describe } from "./input.ts";
import type { DescMessage, MessageShape } from "./protobuf_types.ts";

const codecs = new WeakMap<DescMessage, Codec<unknown>>();

/**
 * A {@linkcode Codec} for the messages of a protobuf-es v2 schema (such as
 * the generated `AssetSchema`) in the binary wire format. It is named by the
 * message's full name (`cqc.entities.v1.Asset`), has content type
 * `application/x-protobuf`, and calls `toBinary` / `fromBinary` and nothing
 * more on success. One codec per schema object: calling this again returns
 * the same one.
 *
 * `encode` takes a message of this type (made with `create(schema, ...)` or
 * decoded); anything else, or a field value the wire format cannot hold
 * (an `int32` of `1.5`), throws `invalid_input`. `decode` throws
 * `invalid_input` (`invalid <type>: <reason>`, the library's error as the
 * `cause`) for truncated data, a bad tag or varint, a string that is not
 * UTF-8, or messages nested more than 100 deep. Unknown fields are kept and
 * written back, so an older reader passes newer data through unchanged.
 *
 * @example Usage
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { TimestampSchema } from "@bufbuild/protobuf/wkt";
 * import { isInvalidInput } from "@cqi/errors";
 * import { protobuf } from "@cqi/codec";
 *
 * const codec = protobuf(TimestampSchema);
 * const bytes = codec.encode(create(TimestampSchema, { seconds: 60n, nanos: 5 }));
 * console.log(codec.contentType, codec.decode(bytes).nanos); // "application/x-protobuf" 5
 * try {
 *   codec.decode(new Uint8Array([0x08]));
 * } catch (error) {
 *   console.log(isInvalidInput(error), (error as Error).message);
 *   // true "invalid google.protobuf.Timestamp: data ends early"
 * }
 * ```
 *
 * @typeParam S The message schema.
 * @param schema A generated message schema (`GenMessage`) or any `DescMessage`.
 * @returns The codec for its messages.
 * @throws {TypeError} When `schema` is not a message schema.
 */
export function protobuf<S extends DescMessage>(
  schema: S,
): Codec<MessageShape<S>> {
  let codec = codecs.get(schema);
  if (codec === undefined) {
    if (schema?.kind !== "message") {
      throw new TypeError("protobuf: expected a protobuf-es message schema");
    }
    codec = create(schema);
    codecs.set(schema, codec);
  }
  return codec as Codec<MessageShape<S>>;
}

function create<S extends DescMessage>(schema: S): Codec<MessageShape<S>> {
  const name = schema.typeName;
  return Object.freeze({
    name,
    contentType: "application/x-protobuf",
    encode(message: MessageShape<S>): Uint8Array {
      if (message?.$typeName !== name) {
        throw invalidInput(
          `invalid ${name}: expected a ${name} message, got ${
            typeof message?.$typeName === "string"
              ? message.$typeName
              : describe(message)
          }`,
        );
      }
      try {
        return toBinary(schema, message);
      } catch (cause) {
        throw unencodable(name, cause);
      }
    },
    decode(bytes: Uint8Array): MessageShape<S> {
      try {
        return fromBinary(schema, bytes);
      } catch (cause) {
        assertBytes(name, bytes);
        throw invalidInput(`invalid ${name}: ${reason(cause)}`, { cause });
      }
    },
  });
}

/**
 * Why `fromBinary` failed, in words that quote nothing of the input. The
 * errors protobuf-es 2.17 throws, measured in protobuf_test.ts: `RangeError
 * "premature EOF"` (truncated data, a length past the end, a group never
 * closed), `Error "illegal tag: ..."` (field 0, wire type 6 or 7), `Error
 * "invalid varint"`, `TypeError` from the fatal UTF-8 decoder (a string
 * field, map key included), and `Error "...maximum recursion depth..."`
 * past 100 nested messages or groups. A stack overflow (`RangeError
 * "Maximum call stack size exceeded"`) reads as nesting too.
 */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  if (/recursion depth|call stack/i.test(message)) return "nested too deeply";
  if (message === "premature EOF") return "data ends early";
  if (error instanceof TypeError) return "a string field is not valid UTF-8";
  if (message.startsWith("illegal tag")) return "illegal field tag";
  if (message === "invalid varint") return "malformed varint";
  return "malformed protobuf data";
}

/**
 * The error for a message `toBinary` rejected, naming the field (protobuf-es
 * puts `cannot encode field <type>.<field> ...` in front of a message that
 * goes on to quote the value; only the field is kept).
 */
function unencodable(name: string, cause: unknown): CqiError {
  const message = cause instanceof Error ? cause.message : "";
  const field = /^cannot encode field ([\w.]+)/.exec(message)?.[1];
  const what = field === undefined
    ? "cannot encode it"
    : `cannot encode field ${
      field.startsWith(`${name}.`) ? field.slice(name.length + 1) : field
    }`;
  return invalidInput(`invalid ${name}: ${what}`, { cause });
}
