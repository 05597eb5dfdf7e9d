// The loader's intermediate tree: values as read (strings), with where each
// came from. Sources are merged on this tree, then it is coerced to the
// schema's types and validated. Not exported from mod.ts.
import type { ConfigSource } from "./error.ts";

/** A scalar as read: a string, or `null` for an empty YAML value. */
export class RawScalar {
  /** Where it came from. */
  readonly source: ConfigSource;
  /** The text, or `null`; `undefined` when `problem` is set. */
  readonly value: string | null | undefined;
  /** Why there is no value (an unresolved `${VAR}`), if so. */
  readonly problem?: string;

  constructor(
    value: string | null | undefined,
    source: ConfigSource,
    problem?: string,
  ) {
    this.value = value;
    this.source = source;
    if (problem !== undefined) this.problem = problem;
  }
}

/** A list as read. */
export class RawList {
  /** The items. */
  readonly items: RawNode[];
  /** Where it came from. */
  readonly source: ConfigSource;

  constructor(items: RawNode[], source: ConfigSource) {
    this.items = items;
    this.source = source;
  }
}

/** A mapping as read. */
export class RawMap {
  /** The entries, in order. */
  readonly entries: Map<string, RawNode>;
  /** Where it came from. */
  readonly source: ConfigSource;

  constructor(entries: Map<string, RawNode>, source: ConfigSource) {
    this.entries = entries;
    this.source = source;
  }
}

/** Any node of the tree. */
export type RawNode = RawScalar | RawList | RawMap;
