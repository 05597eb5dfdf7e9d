import { invalidInput } from "@cqi/errors";

/**
 * Throws the `invalid_input` error every codec throws for an argument that
 * is not bytes at all (a string or an `ArrayBuffer` from untyped code).
 */
export function assertBytes(name: string, bytes: unknown): void {
  if (!(bytes instanceof Uint8Array)) {
    throw invalidInput(
      `invalid ${name}: expected a Uint8Array, got ${describe(bytes)}`,
    );
  }
}

/** What a value is, without its contents. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}
