// The loader's values as read, before coercion: text as written (the schema
// decides its type), lists and mappings, each with where it came from.
// Every source is read into Raw values; merge.ts turns them into the plain
// values that are validated. Not exported from mod.ts.
import type { ConfigSource } from "./error.ts";

/** A value as read, with its origin. */
export interface Raw {
  /** Text (`null` when empty or absent), a list, or a mapping by key. */
  value: string | null | Raw[] | Map<string, Raw>;
  /** Where it came from. */
  source: ConfigSource;
  /** Why there is no value (an unresolved `${VAR}`, an unreadable `_FILE`), if so. */
  problem?: string;
}
