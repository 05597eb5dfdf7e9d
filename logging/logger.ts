import {
  isSpanContextValid,
  type SpanContext,
  trace,
} from "@opentelemetry/api";
import { getLogFields, type ServiceIdentity } from "@cqi/http";
import { levelFromEnv, type LogLevel, parseLevel, SEVERITY } from "./levels.ts";
import { fileSink, stdSink } from "./output.ts";
import { prettySink } from "./pretty.ts";
import { quote } from "./quote.ts";
import { DEFAULT_REDACT, Serializer } from "./serialize.ts";
import type { Sink } from "./sink.ts";
import { timestamp } from "./timestamp.ts";

/**
 * Fields of a log line: any JSON-able values, and more (see the README for
 * how Errors, Maps, BigInts and cycles are written).
 *
 * @example Usage
 * ```ts
 * import type { Fields } from "@cqi/logging";
 *
 * const fields: Fields = { order_id: "o-1", amount: 12.5 };
 * ```
 */
export type Fields = Record<string, unknown>;

/**
 * A structured logger: each call writes one JSON line with the standard
 * fields, the fields bound by {@linkcode Logger.child}, and the call's own.
 *
 * @example Usage
 * ```ts
 * import { createLogger, type Logger, memorySink } from "@cqi/logging";
 *
 * const log: Logger = createLogger({ service: { name: "orders" }, output: memorySink() });
 * log.info("order placed", { order_id: "o-1" });
 * ```
 */
export interface Logger extends AsyncDisposable {
  /** The least severe level written. */
  readonly level: LogLevel | "silent";
  /**
   * Writes a `trace` line.
   *
   * @param message What happened.
   * @param fields Fields of this line.
   */
  trace(message: string, fields?: Fields): void;
  /**
   * Writes a `debug` line.
   *
   * @param message What happened.
   * @param fields Fields of this line.
   */
  debug(message: string, fields?: Fields): void;
  /**
   * Writes an `info` line.
   *
   * @param message What happened.
   * @param fields Fields of this line.
   */
  info(message: string, fields?: Fields): void;
  /**
   * Writes a `warn` line.
   *
   * @param message What happened.
   * @param fields Fields of this line.
   */
  warn(message: string, fields?: Fields): void;
  /**
   * Writes an `error` line; put the error under `error` in `fields`.
   *
   * @param message What happened.
   * @param fields Fields of this line.
   */
  error(message: string, fields?: Fields): void;
  /**
   * Writes a `fatal` line.
   *
   * @param message What happened.
   * @param fields Fields of this line.
   */
  fatal(message: string, fields?: Fields): void;
  /**
   * Returns a logger that adds `fields` to every line. They are serialised
   * once, here: later changes to the objects are not seen.
   *
   * @param fields The fields to bind.
   * @returns The child logger, sharing this one's output and level.
   */
  child(fields: Fields): Logger;
  /**
   * Whether a call at `level` writes a line (to skip costly preparation).
   *
   * @param level The level to test.
   * @returns Whether it is enabled.
   */
  isLevelEnabled(level: LogLevel): boolean;
  /** Resolves once every line logged so far reached the output. */
  flush(): Promise<void>;
  /**
   * Flushes and closes the output (shared with the parent and children).
   * stdout and stderr stay open; later lines to a closed file are dropped.
   */
  close(): Promise<void>;
}

/**
 * Options for {@linkcode createLogger}.
 *
 * @example Usage
 * ```ts
 * import type { LoggerOptions } from "@cqi/logging";
 *
 * const options: LoggerOptions = {
 *   service: { name: "orders" },
 *   level: "debug",
 *   output: "stderr",
 * };
 * ```
 */
export interface LoggerOptions {
  /**
   * Who the service is: its `name` is every line's `service_name` field.
   * Default `{ name: "unknown_service" }`.
   */
  service?: ServiceIdentity;
  /**
   * The least severe level written; the `LOG_LEVEL` environment variable,
   * when set, overrides it. Default `info`.
   */
  level?: LogLevel | "silent";
  /** `json` lines, or `pretty` text for development. Default `json`. */
  format?: "json" | "pretty";
  /** `stdout`, `stderr`, a file path (appended to) or a sink. Default `stdout`. */
  output?: string | Sink;
  /**
   * Key names whose values are written as `[REDACTED]`, at any depth,
   * compared case-insensitively. Replaces the default list
   * (`DEFAULT_REDACT`); spread it to extend it.
   */
  redact?: readonly string[];
  /** Fields bound to every line, as with `child`. */
  fields?: Fields;
}

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
const BUFFER = {
  bufferSize: 64 * 1024,
  flushInterval: 50,
  maxBuffer: 16 << 20,
};

/** What a logger and its children share. */
interface Core {
  readonly sink: Sink;
  readonly serializer: Serializer;
  /** Per level: `","level":"info","service_name":"x","message":`. */
  readonly parts: readonly string[];
  readonly level: LogLevel | "silent";
}

/**
 * Creates a logger. Lines are buffered in memory and written at 64 KiB or
 * within 50 ms, without blocking; call `close()` (or `flush()`) before the
 * process exits — an exit hook writes what is left, best effort.
 *
 * @example Usage
 * ```ts
 * import { createLogger } from "@cqi/logging";
 *
 * await using log = createLogger({ service: { name: "orders" }, level: "debug" });
 * log.debug("cache warmed", { entries: 120 });
 * log.child({ order_id: "o-1" }).info("order placed", { amount: 12.5 });
 * ```
 *
 * @param options Service name, level, format, output, redaction, fields.
 * @returns The logger.
 * @throws {TypeError} When an option has the wrong type.
 * @throws {RangeError} When `level`, `format` or `LOG_LEVEL` is not a known value.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const service = options.service === undefined
    ? "unknown_service"
    : options.service?.name;
  if (typeof service !== "string") {
    throw new TypeError(
      "createLogger: service must be a ServiceIdentity, { name: string }",
    );
  }
  const level = resolveLevel(options.level);
  const format = options.format ?? "json";
  if (format !== "json" && format !== "pretty") {
    throw new RangeError(
      `createLogger: format must be "json" or "pretty", got ${
        JSON.stringify(format)
      }`,
    );
  }
  const redact = options.redact ?? DEFAULT_REDACT;
  if (!Array.isArray(redact) || redact.some((k) => typeof k !== "string")) {
    throw new TypeError("createLogger: redact must be an array of key names");
  }
  const fields = options.fields;
  if (fields !== undefined && (typeof fields !== "object" || fields === null)) {
    throw new TypeError("createLogger: fields must be an object");
  }
  let sink = openOutput(options.output ?? "stdout");
  if (format === "pretty") sink = prettySink(sink, isTerminal(options.output));
  const serializer = new Serializer(redact);
  const parts = LEVELS.map((name) =>
    '","level":"' + name + '","service_name":' + quote(service) +
    ',"message":'
  );
  const core: Core = { sink, serializer, parts, level };
  const bindings = fields === undefined ? "" : serializer.fields(fields);
  return new LoggerImpl(core, SEVERITY[level], bindings, false);
}

function resolveLevel(option: unknown): LogLevel | "silent" {
  const names = [...LEVELS, "silent"].join(", ");
  if (
    option !== undefined &&
    (typeof option !== "string" || !Object.hasOwn(SEVERITY, option))
  ) {
    throw new RangeError(
      `createLogger: level must be one of ${names}, got ${
        JSON.stringify(option)
      }`,
    );
  }
  const env = levelFromEnv();
  if (env === undefined) return (option ?? "info") as LogLevel | "silent";
  const level = parseLevel(env);
  if (level === undefined) {
    throw new RangeError(
      `LOG_LEVEL must be one of ${names}, got ${JSON.stringify(env)}`,
    );
  }
  return level;
}

function openOutput(output: unknown): Sink {
  if (typeof output === "object" && output !== null) {
    const sink = output as Partial<Sink>;
    if (
      typeof sink.write === "function" && typeof sink.flush === "function" &&
      typeof sink.close === "function"
    ) return sink as Sink;
  }
  if (typeof output !== "string" || output === "") {
    throw new TypeError(
      'createLogger: output must be "stdout", "stderr", a file path or a Sink',
    );
  }
  if (output === "stdout" || output === "stderr") {
    return stdSink(output, BUFFER);
  }
  return fileSink(output, BUFFER);
}

function isTerminal(output: unknown): boolean {
  const name = output ?? "stdout";
  if (name !== "stdout" && name !== "stderr") return false;
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno !== undefined) return deno[name].isTerminal();
  const process = (globalThis as {
    process?: { stdout?: { isTTY?: boolean }; stderr?: { isTTY?: boolean } };
  }).process;
  return process?.[name]?.isTTY === true;
}

// A one-entry cache: lines logged under one span reuse its id fields.
let lastSpan: SpanContext | undefined;
let lastTrace = "";

/**
 * The id fields for the active span. A remote span context (a caller's,
 * extracted from `traceparent` with no tracer here to start a span of this
 * process's own) gives `trace_id` only: its span id is the caller's span,
 * not one of this process's.
 */
function traceFields(context: SpanContext): string {
  if (context !== lastSpan) {
    lastSpan = context;
    lastTrace = !isSpanContextValid(context)
      ? ""
      : context.isRemote === true
      ? ',"trace_id":"' + context.traceId + '"'
      : ',"trace_id":"' + context.traceId + '","span_id":"' + context.spanId +
        '"';
  }
  return lastTrace;
}

function noop(): void {}

class LoggerImpl implements Logger {
  readonly #core: Core;
  readonly #min: number;
  readonly #bindings: string;
  // A request logger: adds the request's extra log fields to each line.
  readonly #scoped: boolean;

  constructor(core: Core, min: number, bindings: string, scoped: boolean) {
    this.#core = core;
    this.#min = min;
    this.#bindings = bindings;
    this.#scoped = scoped;
    // Disabled levels become a shared no-op on the instance, as pino does:
    // the engine can then drop the call and its fields object altogether
    // (Bun: 2.9 → 0.1 ns per disabled call in bench/logging.ts).
    for (let i = 0; i < LEVELS.length; i++) {
      const name = LEVELS[i];
      if (SEVERITY[name] < min) (this as Record<string, unknown>)[name] = noop;
    }
  }

  get level(): LogLevel | "silent" {
    return this.#core.level;
  }

  trace(message: string, fields?: Fields): void {
    if (this.#min <= 10) this.#write(0, message, fields);
  }

  debug(message: string, fields?: Fields): void {
    if (this.#min <= 20) this.#write(1, message, fields);
  }

  info(message: string, fields?: Fields): void {
    if (this.#min <= 30) this.#write(2, message, fields);
  }

  warn(message: string, fields?: Fields): void {
    if (this.#min <= 40) this.#write(3, message, fields);
  }

  error(message: string, fields?: Fields): void {
    if (this.#min <= 50) this.#write(4, message, fields);
  }

  fatal(message: string, fields?: Fields): void {
    if (this.#min <= 60) this.#write(5, message, fields);
  }

  child(fields: Fields): Logger {
    return this.scoped(fields, this.#scoped);
  }

  /** A child; `scoped` makes it add the request's log fields to each line. */
  scoped(fields: Fields, scoped: boolean): LoggerImpl {
    const bindings = this.#bindings + this.#core.serializer.fields(fields);
    return new LoggerImpl(this.#core, this.#min, bindings, scoped);
  }

  isLevelEnabled(level: LogLevel): boolean {
    return SEVERITY[level] >= this.#min;
  }

  flush(): Promise<void> {
    return this.#core.sink.flush();
  }

  close(): Promise<void> {
    return this.#core.sink.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #write(index: number, message: string, fields: Fields | undefined): void {
    const core = this.#core;
    let line = '{"timestamp":"' + timestamp(Date.now()) + core.parts[index] +
      (typeof message === "string"
        ? quote(message)
        : core.serializer.value(message, 0) ?? '""');
    const span = trace.getActiveSpan();
    if (span !== undefined) line += traceFields(span.spanContext());
    line += this.#bindings;
    if (this.#scoped) line += core.serializer.fields(getLogFields());
    if (fields !== undefined && fields !== null) {
      line += core.serializer.fields(fields);
    }
    core.sink.write(line + "}\n");
  }
}

/**
 * A child of `base` that also writes the current request's extra log fields
 * (`getLogFields()` of `@cqi/http`) on each line. Internal: for accessLog.
 */
export function requestChild(base: Logger, fields: Fields): Logger {
  return base instanceof LoggerImpl
    ? base.scoped(fields, true)
    : base.child(fields);
}
