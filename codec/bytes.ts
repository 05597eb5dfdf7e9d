import { invalidInput } from "@cqi/errors";
import type { Codec } from "./codec.ts";
import { assertBytes, describe } from "./input.ts";

/**
 * The {@linkcode Codec} for raw bytes, content type
 * `application/octet-stream`: `encode` and `decode` return the bytes they
 * are given, not a copy. Anything but a `Uint8Array` throws `invalid_input`.
 *
 * @example Usage
 * ```ts
 * import { bytes } from "@cqi/codec";
 *
 * const payload = new Uint8Array([1, 2, 3]);
 * console.log(bytes.decode(bytes.encode(payload)) === payload); // true
 * console.log(bytes.name, bytes.contentType); // "bytes" "application/octet-stream"
 * ```
 */
export const bytes: Codec<Uint8Array> = Object.freeze({
  name: "bytes",
  contentType: "application/octet-stream",
  encode(value: Uint8Array): Uint8Array {
    if (!(value instanceof Uint8Array)) {
      throw invalidInput(
        `invalid bytes: expected a Uint8Array, got ${describe(value)}`,
      );
    }
    return value;
  },
  decode(value: Uint8Array): Uint8Array {
    assertBytes("bytes", value);
    return value;
  },
});
