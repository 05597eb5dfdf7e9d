// The `error` field: `{ type, message, code?, stack, cause: [...] }`, with
// every error of the cause chain, outermost first, in `cause`.
import { errorCode, kindOf } from "@cqi/errors";
import { quote } from "./quote.ts";

// Cause chains can be cyclic or absurdly deep; stop after this many.
const MAX_CHAIN = 64;
// How deep AggregateErrors inside AggregateErrors are written.
const MAX_NESTING = 3;

/** Writes any thrown value; `value` writes non-error values as JSON. */
export function errorJson(
  error: unknown,
  value: (v: unknown) => string,
  nesting = 0,
): string {
  let out = "{" + describe(error, value, nesting);
  let causes = "";
  const seen: unknown[] = [error];
  let current = causeOf(error);
  while (current !== undefined && seen.length <= MAX_CHAIN) {
    if (seen.includes(current)) break;
    seen.push(current);
    causes += (causes === "" ? "{" : ",{") + describe(current, value, nesting) +
      "}";
    current = causeOf(current);
  }
  return out += ',"cause":[' + causes + "]}";
}

function causeOf(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined;
}

// The members of one error's object, without braces or `cause`.
function describe(
  error: unknown,
  value: (v: unknown) => string,
  nesting: number,
): string {
  if (!(error instanceof Error)) return describeValue(error, value);
  let out = '"type":' + quote(typeName(error)) + ',"message":' +
    quote(String(error.message));
  const code = codeOf(error);
  if (code !== undefined) out += ',"code":' + quote(code);
  if (typeof error.stack === "string") out += ',"stack":' + quote(error.stack);
  if (error instanceof AggregateError && Array.isArray(error.errors)) {
    const inner = nesting < MAX_NESTING
      ? error.errors.map((e) => errorJson(e, value, nesting + 1)).join(",")
      : "";
    out += ',"errors":[' + inner + "]";
  }
  return out;
}

function describeValue(thrown: unknown, value: (v: unknown) => string): string {
  if (thrown === null || typeof thrown !== "object") {
    const type = thrown === null ? "null" : typeof thrown;
    return '"type":' + quote(type) + ',"message":' + quote(String(thrown));
  }
  let out = '"type":' + quote(thrown.constructor?.name || "Object");
  const message = (thrown as { message?: unknown }).message;
  if (typeof message === "string") out += ',"message":' + quote(message);
  return out + ',"value":' + value(thrown);
}

function typeName(error: Error): string {
  const name = error.name;
  if (typeof name === "string" && name !== "" && name !== "Error") return name;
  return error.constructor?.name || "Error";
}

// The public code for a kinded CQI error chain; else a system error's own
// `code` (such as `ECONNREFUSED`), if it has one.
function codeOf(error: Error): string | undefined {
  if (kindOf(error) !== undefined) return errorCode(error);
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") return String(code);
}
