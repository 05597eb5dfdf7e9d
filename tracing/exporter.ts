import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import { ExportResultCode, suppressTracing } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { temporary } from "@cqi/errors";
import { readEnv } from "@cqi/http";

/**
 * Where spans go: OTLP, the `console`, or `memory` (tests read the spans
 * back from the handle). `otlp` picks the protocol from
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`/`OTEL_EXPORTER_OTLP_PROTOCOL`,
 * default `http/protobuf`; `otlp-http` is HTTP, protobuf unless that
 * variable says `http/json`; `otlp-grpc` is gRPC.
 *
 * @example Usage
 * ```ts
 * import type { ExporterName } from "@cqi/tracing";
 *
 * const exporter: ExporterName = "otlp-http";
 * ```
 */
export type ExporterName =
  | "otlp"
  | "otlp-http"
  | "otlp-grpc"
  | "console"
  | "memory";

/**
 * The OTLP wire protocols, named as in `OTEL_EXPORTER_OTLP_PROTOCOL`.
 *
 * @example Usage
 * ```ts
 * import type { OtlpProtocol } from "@cqi/tracing";
 *
 * const protocol: OtlpProtocol = "http/json";
 * ```
 */
export type OtlpProtocol = "http/protobuf" | "http/json" | "grpc";

/**
 * Any OpenTelemetry `SpanExporter` (from `@opentelemetry/sdk-trace-base`
 * or an exporter package), for destinations this module does not name.
 *
 * @example Usage
 * ```ts
 * import type { SpanExporterLike } from "@cqi/tracing";
 *
 * // Records spans, then throws them away: for measuring overhead.
 * const discard: SpanExporterLike = {
 *   export: (_spans, done) => done({ code: 0 }),
 *   shutdown: () => Promise.resolve(),
 * };
 * ```
 */
export interface SpanExporterLike {
  /** Exports a batch; calls `done` with code 0 on success, 1 on failure. */
  export(
    spans: unknown[],
    done: (result: { code: number; error?: Error }) => void,
  ): void;
  /** Flushes and releases resources. */
  shutdown(): Promise<void>;
  /** Exports anything buffered. */
  forceFlush?(): Promise<void>;
}

const PROTOCOLS: ReadonlySet<string> = new Set<OtlpProtocol>([
  "http/protobuf",
  "http/json",
  "grpc",
]);

/** The OTLP protocol for an exporter name, from options and environment. */
export function otlpProtocol(
  exporter: "otlp" | "otlp-http" | "otlp-grpc",
  protocol: OtlpProtocol | undefined,
): OtlpProtocol {
  if (protocol !== undefined && !PROTOCOLS.has(protocol)) {
    throw new RangeError(
      `createTracing: protocol must be http/protobuf, http/json or grpc, got ${protocol}`,
    );
  }
  if (exporter === "otlp-grpc") {
    if (protocol !== undefined && protocol !== "grpc") {
      throw new TypeError(
        `createTracing: exporter otlp-grpc cannot use protocol ${protocol}`,
      );
    }
    return "grpc";
  }
  let chosen = protocol;
  for (
    const name of [
      "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
      "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
  ) {
    const value = chosen === undefined ? readEnv(name)?.trim() : undefined;
    if (value === undefined || value === "") continue;
    if (!PROTOCOLS.has(value)) {
      throw new RangeError(
        `createTracing: ${name} must be http/protobuf, http/json or grpc, got ${value}`,
      );
    }
    chosen = value as OtlpProtocol;
  }
  if (exporter === "otlp-http") {
    if (protocol === "grpc") {
      throw new TypeError("createTracing: exporter otlp-http cannot use grpc");
    }
    return chosen === "http/json" ? "http/json" : "http/protobuf";
  }
  return chosen ?? "http/protobuf";
}

/**
 * The URL to export to, from a collector address: `host:port` gets
 * `http://`; an HTTP address without a path gets `/v1/traces`, one with a
 * path is used as it is. `undefined` leaves it to the exporter, which reads
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`/`OTEL_EXPORTER_OTLP_ENDPOINT`.
 */
export function otlpUrl(
  endpoint: string | undefined,
  protocol: OtlpProtocol,
): string | undefined {
  if (endpoint === undefined) return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)
    ? endpoint
    : `http://${endpoint}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(
      `createTracing: endpoint must be host:port or a URL, got ${endpoint}`,
    );
  }
  if (protocol === "grpc") return withScheme;
  if (url.pathname === "/" || url.pathname === "") {
    url.pathname = "/v1/traces";
  }
  return url.href;
}

/** Loads the OTLP exporter package for `protocol` (only the one used). */
export async function loadOtlpExporter(
  protocol: OtlpProtocol,
  url: string | undefined,
): Promise<SpanExporterLike> {
  const config = url === undefined ? {} : { url };
  switch (protocol) {
    case "grpc": {
      const m = await import("@opentelemetry/exporter-trace-otlp-grpc");
      return new m.OTLPTraceExporter(config);
    }
    case "http/json": {
      const m = await import("@opentelemetry/exporter-trace-otlp-http");
      return new m.OTLPTraceExporter(config);
    }
    default: {
      const m = await import("@opentelemetry/exporter-trace-otlp-proto");
      return new m.OTLPTraceExporter(config);
    }
  }
}

/**
 * Wraps an exporter that may still be loading, and reports every failed
 * export to `onError` as a `temporary` `CqiError` (the SDK would otherwise
 * drop it silently). The wrapped exporter runs, and `onError` is called, in
 * the root context (tracing suppressed): the batch processor starts an
 * export in the context of whichever request ended a span, and nothing of
 * that request — its trace id in a log line, its scope kept alive by a
 * retry timer — may reach the export. {@linkcode abandon} settles the
 * exports still running, for a shutdown that cannot wait for them.
 */
export class ReportingExporter implements SpanExporter {
  static readonly #reported = new WeakSet<object>();

  /** Whether `error` is a failure this class reported already. */
  static reported(error: unknown): boolean {
    return typeof error === "object" && error !== null &&
      ReportingExporter.#reported.has(error);
  }

  readonly #exporter: Promise<SpanExporterLike>;
  readonly #target: string;
  readonly #onError: (error: unknown) => void;
  /** The exports not settled yet: each fails with the cause given. */
  readonly #running = new Set<(cause: unknown) => void>();

  constructor(
    exporter: SpanExporterLike | Promise<SpanExporterLike>,
    target: string,
    onError: (error: unknown) => void,
  ) {
    this.#exporter = Promise.resolve(exporter);
    this.#exporter.catch(() => {}); // reported on the first export
    this.#target = target;
    this.#onError = onError;
  }

  export(
    spans: ReadableSpan[],
    done: (result: { code: ExportResultCode; error?: Error }) => void,
  ): void {
    // Settled once: by the exporter's result, or by abandon() before it.
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      this.#running.delete(fail);
      return true;
    };
    const fail = (cause: unknown) => {
      if (!settle()) return;
      const error = temporary(
        `tracing: exporting ${spans.length} span(s) to ${this.#target} failed`,
        { cause },
      );
      ReportingExporter.#reported.add(error);
      reportInRoot(this.#onError, error);
      done({ code: ExportResultCode.FAILED, error });
    };
    this.#running.add(fail);
    context.with(suppressTracing(ROOT_CONTEXT), () => {
      this.#exporter.then((exporter) => {
        try {
          exporter.export(spans, (result) => {
            if (result.code !== ExportResultCode.SUCCESS) fail(result.error);
            else if (settle()) done(result);
          });
        } catch (error) {
          fail(error);
        }
      }, fail);
    });
  }

  /**
   * Fails every export still running with `cause`, reporting each; their
   * results, should they come later, are dropped. Returns how many there
   * were.
   */
  abandon(cause: unknown): number {
    const running = [...this.#running];
    for (const fail of running) fail(cause);
    return running.length;
  }

  async shutdown(): Promise<void> {
    const exporter = await this.#exporter.catch(() => undefined);
    await exporter?.shutdown();
  }

  async forceFlush(): Promise<void> {
    const exporter = await this.#exporter.catch(() => undefined);
    await exporter?.forceFlush?.();
  }
}

/**
 * Calls `onError(error)` in the root context, so that a log line it writes
 * carries no request's trace id or fields; a throwing `onError` is ignored
 * (a failing reporter must not break the export pipeline or a shutdown).
 */
export function reportInRoot(
  onError: (error: unknown) => void,
  error: unknown,
): void {
  try {
    context.with(ROOT_CONTEXT, onError, undefined, error);
  } catch {
    // ignored, see above
  }
}
