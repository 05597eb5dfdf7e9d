// Shared by the codec tests: the one way a decode may fail.
import assert from "node:assert/strict";
import { CqiError } from "@cqi/errors";

/**
 * Asserts that `error` is what a codec throws for bad input: a `CqiError` of
 * kind `invalid_input` whose message starts `invalid <name>: `. Returns it.
 */
export function assertInvalid(error: unknown, name: string): CqiError {
  assert.ok(
    error instanceof CqiError,
    `expected a CqiError, got ${
      error instanceof Error ? `${error.name}: ${error.message}` : error
    }`,
  );
  assert.equal(error.kind, "invalid_input", error.message);
  assert.ok(
    error.message.startsWith(`invalid ${name}: `),
    `"${error.message}" does not name ${name}`,
  );
  return error;
}

/** Runs `fn`, which must throw; returns what it threw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail("expected it to throw");
}

/** Asserts that `fn` throws the invalid_input error of `name`; returns it. */
export function throwsInvalid(fn: () => unknown, name: string): CqiError {
  return assertInvalid(thrown(fn), name);
}

/**
 * Decodes `bytes` with `decode` and returns the value, or `undefined` once
 * it asserted that the failure was the invalid_input error of `name`.
 */
export function decodeOrInvalid<T>(
  decode: (bytes: Uint8Array) => T,
  bytes: Uint8Array,
  name: string,
): T | undefined {
  try {
    return decode(bytes);
  } catch (error) {
    assertInvalid(error, name);
    return undefined;
  }
}
