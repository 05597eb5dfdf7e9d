// Assertions the suites share.
import assert from "node:assert/strict";
import { CqiError } from "@cqi/errors";

/**
 * Resolves with the `CqiError` `promise` rejects with, after checking its
 * kind (and message, when given); fails when it resolves or rejects with
 * anything else.
 */
export async function rejectsWith(
  promise: Promise<unknown>,
  kind: string,
  message?: RegExp,
): Promise<CqiError> {
  const error = await promise.then(
    () => assert.fail(`expected a ${kind} error`),
    (error) => error,
  );
  assert.ok(error instanceof CqiError, `not a CqiError: ${error}`);
  assert.equal(error.kind, kind);
  if (message) assert.match(error.message, message);
  return error;
}
