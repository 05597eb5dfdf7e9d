// Test helper: a Raw tree as plain data, texts as written. Not published.
import type { Raw } from "../raw.ts";

/** `node` as plain data: mappings as objects, lists as arrays, texts as text. */
export function plain(node: Raw | undefined): unknown {
  const value = node?.value;
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]));
  }
  if (Array.isArray(value)) return value.map(plain);
  return value;
}
