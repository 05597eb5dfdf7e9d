/**
 * Where a logger's lines go. A line is one JSON object followed by `\n`.
 * `write` must not throw and should not block; `flush` resolves once every
 * line written before it reached its destination; `close` flushes and
 * releases the destination. Pass your own as the `output` option, or use
 * {@linkcode memorySink} in tests.
 *
 * @example Usage
 * ```ts
 * import { createLogger, type Sink } from "@cqi/logging";
 *
 * const lines: string[] = [];
 * const sink: Sink = {
 *   write: (line) => void lines.push(line),
 *   flush: () => Promise.resolve(),
 *   close: () => Promise.resolve(),
 * };
 * createLogger({ output: sink }).info("hello");
 * console.log(lines.length); // 1
 * ```
 */
export interface Sink {
  /** Takes one line (JSON and a trailing newline). */
  write(line: string): void;
  /** Resolves once every line written so far reached the destination. */
  flush(): Promise<void>;
  /** Flushes, then releases the destination. */
  close(): Promise<void>;
}

/**
 * A {@linkcode Sink} that keeps lines in memory, for tests.
 *
 * @example Usage
 * ```ts
 * import { createLogger, memorySink } from "@cqi/logging";
 *
 * const sink = memorySink();
 * createLogger({ output: sink }).warn("disk low", { free_mb: 12 });
 * console.log(sink.records[0].free_mb); // 12
 * ```
 */
export interface MemorySink extends Sink {
  /** The lines written so far, without their trailing newline. */
  readonly lines: string[];
  /** The lines written so far, parsed. */
  readonly records: Array<Record<string, unknown>>;
  /** Forgets every line. */
  clear(): void;
}

/**
 * Creates a {@linkcode MemorySink}.
 *
 * @example Usage
 * ```ts
 * import { createLogger, memorySink } from "@cqi/logging";
 *
 * const sink = memorySink();
 * const log = createLogger({ service: { name: "test" }, output: sink });
 * log.info("started", { port: 8080 });
 * console.log(sink.records[0].message); // "started"
 * ```
 *
 * @returns An empty sink.
 */
export function memorySink(): MemorySink {
  const lines: string[] = [];
  return {
    lines,
    get records() {
      return lines.map((line) => JSON.parse(line));
    },
    clear: () => void lines.splice(0),
    write: (line) =>
      void lines.push(line.endsWith("\n") ? line.slice(0, -1) : line),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
