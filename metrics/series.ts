// The series of one collector, keyed by label values in a trie of Maps (one
// level per label), so a lookup builds no key string.
import { checkLabelName } from "./names.ts";
import { type ExemplarValue, renderLabels } from "./exposition.ts";
import type { ExemplarLabels } from "./types.ts";

type Node<S> = Map<string, Node<S> | S>;

/** The series of one collector, created on first use. */
export class SeriesSet<S> {
  readonly #metric: string;
  readonly #names: readonly string[];
  readonly #create: (labels: string, values: readonly string[]) => S;
  readonly #root: Node<S> = new Map();
  readonly #all = new Set<S>();
  #single: S | undefined;

  constructor(
    metric: string,
    names: readonly string[],
    create: (labels: string, values: readonly string[]) => S,
  ) {
    this.#metric = metric;
    this.#names = names;
    this.#create = create;
  }

  /** Every series, oldest first. */
  get all(): ReadonlySet<S> {
    return this.#all;
  }

  /** The series of a label object (by the declared names). */
  get(labels: unknown): S {
    const names = this.#names;
    if (names.length === 0) return this.#single ??= this.#add([]);
    if (typeof labels !== "object" || labels === null) {
      throw new TypeError(
        `metrics: "${this.#metric}" needs its labels (${names.join(", ")})`,
      );
    }
    const record = labels as Record<string, unknown>;
    let node = this.#root;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const value = this.#value(record, names[i]);
      let next = node.get(value) as Node<S> | undefined;
      if (next === undefined) node.set(value, next = new Map());
      node = next;
    }
    const value = this.#value(record, names[last]);
    let series = node.get(value) as S | undefined;
    if (series === undefined) {
      series = this.#add(names.map((name) => String(record[name])), record);
      node.set(value, series);
    }
    return series;
  }

  /** Removes the series of a label object, if it exists. */
  delete(labels: unknown): void {
    const names = this.#names;
    if (names.length === 0) {
      if (this.#single !== undefined) this.#all.delete(this.#single);
      this.#single = undefined;
      return;
    }
    const record = labels as Record<string, unknown>;
    let node: Node<S> | undefined = this.#root;
    const last = names.length - 1;
    for (let i = 0; i < last && node !== undefined; i++) {
      node = node.get(this.#value(record, names[i])) as Node<S> | undefined;
    }
    const value = this.#value(record, names[last]);
    const series = node?.get(value) as S | undefined;
    if (series === undefined) return;
    node!.delete(value);
    this.#all.delete(series);
  }

  #value(labels: Record<string, unknown>, name: string): string {
    const value = labels[name];
    if (typeof value === "string") return value;
    if (typeof value === "number") return String(value);
    throw new TypeError(
      `metrics: label "${name}" of "${this.#metric}" must be a string or a number, got ${
        value === undefined ? "nothing" : typeof value
      }`,
    );
  }

  #add(values: string[], labels?: Record<string, unknown>): S {
    if (labels !== undefined) {
      for (const key of Object.keys(labels)) {
        if (!this.#names.includes(key)) {
          throw new TypeError(
            `metrics: "${this.#metric}" has no label "${key}" (it has ${
              this.#names.join(", ")
            })`,
          );
        }
      }
    }
    const series = this.#create(renderLabels(this.#names, values), values);
    this.#all.add(series);
    return series;
  }
}

/** Checks exemplar labels and stamps them with the value and time. */
export function exemplarOf(
  labels: ExemplarLabels,
  value: number,
): ExemplarValue {
  const names = Object.keys(labels);
  let length = 0;
  for (const name of names) {
    checkLabelName("exemplar label", name);
    length += name.length + String(labels[name]).length;
  }
  if (length > 128) {
    throw new RangeError(
      `metrics: exemplar labels must be at most 128 characters in all, got ${length}`,
    );
  }
  return {
    labels: renderLabels(names, names.map((name) => String(labels[name]))),
    value,
    timestamp: Date.now() / 1000,
  };
}

/**
 * Starts a timer: the function returned observes, through `observe`, the
 * seconds since the call, and returns them. Internal.
 */
export function startTimer(
  observe: (seconds: number) => void,
): () => number {
  const start = performance.now();
  return () => {
    const seconds = (performance.now() - start) / 1000;
    observe(seconds);
    return seconds;
  };
}
