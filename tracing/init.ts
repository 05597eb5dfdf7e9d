import { propagation, trace } from "@opentelemetry/api";
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import {
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";
import { temporary } from "@cqi/errors";
import type { ServiceIdentity } from "@cqi/http";
import {
  type ExporterName,
  loadOtlpExporter,
  type OtlpProtocol,
  otlpProtocol,
  otlpUrl,
  ReportingExporter,
  reportInRoot,
  type SpanExporterLike,
} from "./exporter.ts";
import { type FinishedSpan, finishedSpan } from "./finished.ts";
import { propagator } from "./propagation.ts";
import { unsampledTracer } from "./unsampled.ts";
import {
  denoTelemetryActive,
  mode,
  SCOPE,
  setSdkTracer,
  VERSION,
} from "./state.ts";

/**
 * Options for {@linkcode createTracing}: the `tracing` section of
 * `@cqi/config` plus the service identity.
 *
 * @example Usage
 * ```ts
 * import type { TracingOptions } from "@cqi/tracing";
 *
 * const options: TracingOptions = {
 *   service: { name: "cqpm", version: "1.4.0", environment: "staging" },
 *   exporter: "otlp-grpc",
 *   endpoint: "otel-collector:4317",
 *   sampler: "ratio",
 *   sampleRate: 0.25,
 * };
 * ```
 */
export interface TracingOptions {
  /**
   * Who the service is: the `service.name`, `service.version` and
   * `deployment.environment.name` resource attributes of every span.
   */
  service: ServiceIdentity;
  /** `false` returns a disabled handle and records nothing. Default `true`. */
  enabled?: boolean;
  /**
   * Where spans go: a {@linkcode ExporterName} or any OpenTelemetry span
   * exporter. Default `otlp`.
   */
  exporter?: ExporterName | SpanExporterLike;
  /**
   * Collector address for OTLP: `host:port` or a URL (an HTTP URL without
   * a path gets `/v1/traces`). Default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
   * else `OTEL_EXPORTER_OTLP_ENDPOINT`, else `localhost:4318` (HTTP) or
   * `localhost:4317` (gRPC).
   */
  endpoint?: string;
  /**
   * OTLP protocol for `otlp` and `otlp-http`. Default: the
   * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`/`OTEL_EXPORTER_OTLP_PROTOCOL`
   * variable, else `http/protobuf`.
   */
  protocol?: OtlpProtocol;
  /**
   * `always` records every span, `never` none; `ratio` keeps a sampled
   * (or unsampled) remote parent's decision and samples `sampleRate` of
   * new traces. Default `ratio`.
   */
  sampler?: "always" | "never" | "ratio";
  /** Fraction of new traces `ratio` samples, 0 to 1. Default 0.1. */
  sampleRate?: number;
  /**
   * Receives every failed export, as a `temporary` `CqiError` whose cause
   * is the exporter's error, in the root context (so a log line it writes
   * has no request's `trace_id`). Default: `console.error`.
   */
  onError?: (error: unknown) => void;
  /**
   * Milliseconds `close()` (and `flush()`) may take. When `close()` runs
   * out, the exports still running are reported failed (to `onError`,
   * before it resolves) and their results, should they come later, are
   * dropped. Default 5000.
   */
  shutdownTimeout?: number;
}

/**
 * The handle {@linkcode createTracing} returns. Closing it exports every span
 * that has ended, then stops tracing.
 *
 * @example Usage
 * ```ts
 * import { createTracing, startSpan, type Tracing } from "@cqi/tracing";
 *
 * const tracing: Tracing = createTracing({
 *   service: { name: "demo" },
 *   exporter: "memory",
 *   sampler: "always",
 * });
 * startSpan("work", () => {});
 * console.log(tracing.spans().map((s) => s.name)); // ["work"]
 * await tracing.close();
 * ```
 */
export interface Tracing extends AsyncDisposable {
  /**
   * `sdk`: this handle's tracer provider records spans. `deno`: Deno's
   * built-in OpenTelemetry does (`OTEL_DENO=true`), and the exporter and
   * sampler options are not used. `disabled`: `enabled: false`.
   */
  readonly mode: "sdk" | "deno" | "disabled";
  /**
   * Exports every ended span now; failures go to `onError`. Resolves after
   * `shutdownTimeout` at the latest: an export still running then goes on,
   * and is reported when it fails.
   */
  flush(): Promise<void>;
  /**
   * The spans the `memory` exporter holds, in the order they ended (still
   * there after `close`); `[]` with any other exporter.
   */
  spans(): FinishedSpan[];
  /** Forgets the spans the `memory` exporter holds. */
  reset(): void;
  /**
   * Exports every ended span, shuts the exporter down and stops tracing:
   * spans started afterwards record nothing. Never rejects: a failure goes
   * to `onError`. Resolves within `shutdownTimeout`: exports still running
   * then are reported failed and nothing is reported after it. Idempotent.
   */
  close(): Promise<void>;
}

const EXPORTERS: ReadonlySet<string> = new Set<ExporterName>([
  "otlp",
  "otlp-http",
  "otlp-grpc",
  "console",
  "memory",
]);

/**
 * Sets up OpenTelemetry tracing for the process. A tracer provider with the
 * service's resource attributes, the sampler, a batch span processor and
 * the exporter is registered as the `@opentelemetry/api` global (so other
 * instrumentation uses it too) with CQI's W3C propagator. The span context
 * travels in the async context `@cqi/http` registers. Under Deno's
 * built-in OpenTelemetry (`OTEL_DENO=true`) it registers nothing and CQI
 * joins Deno's spans instead (see the README).
 *
 * @example Usage
 * ```ts
 * import { createTracing, startSpan } from "@cqi/tracing";
 *
 * await using tracing = createTracing({
 *   service: { name: "cqpm", version: "1.4.0", environment: "test" },
 *   exporter: "memory",
 *   sampler: "always",
 * });
 * await startSpan("positions.load", async () => {});
 * const [span] = tracing.spans();
 * console.log(span.name, span.resource["service.version"]); // "positions.load" "1.4.0"
 * ```
 *
 * @param options The service identity and the `tracing` config section.
 * @returns The handle; close it at shutdown so no span is lost.
 * @throws {TypeError} When the service name, exporter or sampler is invalid.
 * @throws {RangeError} When `sampleRate` is not within 0 to 1.
 * @throws {Error} When tracing is already initialised, or another tracer
 *   provider is registered globally.
 */
export function createTracing(options: TracingOptions): Tracing {
  const service = options?.service;
  if (typeof service?.name !== "string" || service.name.trim() === "") {
    throw new TypeError(
      "createTracing: service.name must be a non-empty string",
    );
  }
  const sampler = createSampler(options.sampler, options.sampleRate);
  const { shutdownTimeout = 5_000 } = options;
  if (
    typeof shutdownTimeout !== "number" || !(shutdownTimeout >= 0) ||
    !Number.isFinite(shutdownTimeout)
  ) {
    throw new RangeError(
      `createTracing: shutdownTimeout must be a number of milliseconds, 0 or more, got ${
        String(shutdownTimeout)
      }`,
    );
  }
  const exporter = options.exporter ?? "otlp";
  if (
    typeof exporter === "string"
      ? !EXPORTERS.has(exporter)
      : typeof exporter?.export !== "function"
  ) {
    throw new TypeError(
      `createTracing: exporter must be otlp, otlp-http, otlp-grpc, console, memory or a span exporter, got ${
        String(exporter)
      }`,
    );
  }
  if (options.enabled === false) return inert("disabled");
  if (denoTelemetryActive()) return inert("deno");
  if (mode() === "sdk") {
    throw new Error(
      "createTracing: tracing is already initialised; close the previous handle first",
    );
  }
  const onError = options.onError ?? defaultOnError;
  const memory = exporter === "memory" ? new InMemorySpanExporter() : undefined;
  const { spanProcessor, reporting } = processor(
    exporter,
    memory,
    options,
    onError,
  );
  const provider = new BasicTracerProvider({
    resource: resource(service),
    sampler,
    spanProcessors: [spanProcessor],
  });
  if (!trace.setGlobalTracerProvider(provider)) {
    void provider.shutdown();
    throw new Error(
      "createTracing: another OpenTelemetry tracer provider is registered globally",
    );
  }
  const ownPropagator = propagation.setGlobalPropagator(propagator);
  const sdkTracer = provider.getTracer(SCOPE, VERSION);
  setSdkTracer(
    options.sampler === "never" ? unsampledTracer(sdkTracer) : sdkTracer,
  );

  let closing: Promise<void> | undefined;
  let closed = false; // nothing is reported once close() has resolved
  let kept: ReadableSpan[] | undefined; // the memory exporter forgets at shutdown
  const close = () =>
    closing ??= (async () => {
      setSdkTracer(undefined);
      trace.disable();
      if (ownPropagator) propagation.disable();
      kept = memory?.getFinishedSpans().slice();
      const finished = await within(
        provider.shutdown().catch(report),
        shutdownTimeout,
      );
      if (!finished) {
        const late = temporary(
          `tracing: close did not finish within ${shutdownTimeout} ms`,
        );
        // each export still running is reported failed, else this
        if (!reporting?.abandon(late)) reportInRoot(onError, late);
      }
      closed = true;
    })();
  // A failed export was reported already; anything else goes to onError
  // too. The provider's forceFlush rejects with an array of errors.
  const report = (error: unknown) => {
    if (closed) return;
    for (const one of Array.isArray(error) ? error : [error]) {
      if (!ReportingExporter.reported(one)) reportInRoot(onError, one);
    }
  };
  return {
    mode: "sdk",
    flush: async () => {
      await within(provider.forceFlush().catch(report), shutdownTimeout);
    },
    spans: () => (kept ?? memory?.getFinishedSpans() ?? []).map(finishedSpan),
    reset: () => {
      memory?.reset();
      kept &&= [];
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function createSampler(
  name: TracingOptions["sampler"] = "ratio",
  rate = 0.1,
): Sampler {
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new RangeError(
      `createTracing: sampleRate must be a number from 0 to 1, got ${rate}`,
    );
  }
  switch (name) {
    case "always":
      return new AlwaysOnSampler();
    case "never":
      return new AlwaysOffSampler();
    case "ratio":
      return new ParentBasedSampler({
        root: new TraceIdRatioBasedSampler(rate),
      });
    default:
      throw new TypeError(
        `createTracing: sampler must be always, never or ratio, got ${
          String(name)
        }`,
      );
  }
}

function resource(service: ServiceIdentity) {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  const attributes: Record<string, string> = {
    [ATTR_SERVICE_NAME]: service.name,
    "process.runtime.name": bun ? "bun" : "deno",
    "process.runtime.version": bun?.version ??
      globalThis.Deno?.version?.deno ?? "unknown",
  };
  if (service.version) attributes[ATTR_SERVICE_VERSION] = service.version;
  if (service.environment) {
    attributes["deployment.environment.name"] = service.environment;
  }
  return defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes(attributes));
}

/**
 * Resolves with `true` when `promise` settles within `ms`, else with
 * `false` then (leaving no timer behind either way).
 */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() =>
    clearTimeout(timer)
  );
}

function processor(
  exporter: ExporterName | SpanExporterLike,
  memory: InMemorySpanExporter | undefined,
  options: TracingOptions,
  onError: (error: unknown) => void,
): { spanProcessor: SpanProcessor; reporting?: ReportingExporter } {
  if (memory !== undefined) {
    return { spanProcessor: new SimpleSpanProcessor(memory) };
  }
  if (exporter === "console") {
    return {
      spanProcessor: new SimpleSpanProcessor(new ConsoleSpanExporter()),
    };
  }
  if (typeof exporter !== "string") {
    const reporting = new ReportingExporter(
      exporter,
      "the span exporter",
      onError,
    );
    return { spanProcessor: new BatchSpanProcessor(reporting), reporting };
  }
  const protocol = otlpProtocol(
    exporter as "otlp" | "otlp-http" | "otlp-grpc",
    options.protocol,
  );
  const url = otlpUrl(options.endpoint, protocol);
  const target = `${url ?? "the OTEL_EXPORTER_OTLP endpoint"} (${protocol})`;
  const loading = loadOtlpExporter(protocol, url);
  const reporting = new ReportingExporter(loading, target, onError);
  return {
    spanProcessor: new BatchSpanProcessor(reporting as SpanExporter),
    reporting,
  };
}

function inert(mode: "deno" | "disabled"): Tracing {
  const none = () => Promise.resolve();
  return {
    mode,
    flush: none,
    spans: () => [],
    reset: () => {},
    close: none,
    [Symbol.asyncDispose]: none,
  };
}

function defaultOnError(error: unknown): void {
  console.error("@cqi/tracing:", error);
}
