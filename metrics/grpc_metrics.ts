import { GrpcCode } from "@cqi/errors";
import { durationBuckets } from "./histogram.ts";
import type { MetricsRegistry } from "./registry.ts";

/**
 * One finished gRPC call, as {@linkcode GrpcMetrics.record} takes it.
 *
 * @example Usage
 * ```ts
 * import type { GrpcCall } from "@cqi/metrics";
 *
 * const call: GrpcCall = {
 *   service: "positions.v1.Positions",
 *   method: "GetPosition",
 *   code: "NOT_FOUND",
 *   duration: 1.7,
 * };
 * ```
 */
export interface GrpcCall {
  /** The fully qualified service, such as `positions.v1.Positions`. */
  service: string;
  /** The method, such as `GetPosition`. */
  method: string;
  /**
   * The status: a code number (5) or name (`NOT_FOUND`); anything else
   * is recorded as `UNKNOWN`.
   */
  code: number | string;
  /** How long the call took, in milliseconds. */
  duration: number;
}

/**
 * Records gRPC calls into `{ns}_grpc_call_duration_seconds` (histogram)
 * and `{ns}_grpc_call_count_total` (counter), labelled `service`, `method`
 * and `code` (the status name, such as `OK`). The gRPC interceptors call
 * it; so can any other gRPC integration.
 *
 * @example Usage
 * ```ts
 * import { createRegistry, grpcMetrics } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const grpc = grpcMetrics({ registry });
 * const done = grpc.start("shop.v1.Orders", "PlaceOrder");
 * done("OK");
 * grpc.record({
 *   service: "shop.v1.Orders",
 *   method: "GetOrder",
 *   code: 5,
 *   duration: 0.8,
 * });
 * ```
 */
export interface GrpcMetrics {
  /**
   * Records one finished call.
   *
   * @param call Service, method, status code and duration (ms).
   */
  record(call: GrpcCall): void;
  /**
   * Starts timing a call; the returned function records it with its final
   * status code.
   *
   * @param service The fully qualified service.
   * @param method The method.
   * @returns Records the call; returns its duration in milliseconds.
   */
  start(service: string, method: string): (code: number | string) => number;
}

/**
 * Options for {@linkcode grpcMetrics}.
 *
 * @example Usage
 * ```ts
 * import { createRegistry, type GrpcMetricsOptions } from "@cqi/metrics";
 *
 * const options: GrpcMetricsOptions = {
 *   registry: createRegistry({ namespace: "shop", defaultMetrics: false }),
 * };
 * ```
 */
export interface GrpcMetricsOptions {
  /** Where the gRPC metrics are registered. */
  registry: MetricsRegistry;
  /** Duration bucket bounds in seconds. Default `durationBuckets`. */
  buckets?: readonly number[];
  /**
   * Distinct `service/method` pairs kept as labels; later ones are recorded
   * as service and method `OTHER`, so callers inventing method names (calls
   * answered UNIMPLEMENTED) cannot grow the series without bound. Default 1000.
   */
  maxMethods?: number;
}

const NAMES: ReadonlyMap<number | string, string> = new Map<
  number | string,
  string
>(
  Object.entries(GrpcCode).flatMap(([name, code]) => [[code, name], [
    name,
    name,
  ]]),
);

/**
 * Creates the recorder of gRPC call metrics (see {@linkcode GrpcMetrics}).
 *
 * @example Usage
 * ```ts
 * import { createRegistry, grpcMetrics } from "@cqi/metrics";
 *
 * const registry = createRegistry({ namespace: "shop", defaultMetrics: false });
 * const grpc = grpcMetrics({ registry });
 * grpc.record({ service: "shop.v1.Orders", method: "GetOrder", code: 0, duration: 2 });
 * const text = await registry.metrics();
 * console.log(text.includes('code="OK"')); // true
 * ```
 *
 * @param options The registry and buckets.
 * @returns The recorder.
 */
export function grpcMetrics(options: GrpcMetricsOptions): GrpcMetrics {
  const registry = options?.registry;
  if (typeof registry?.histogram !== "function") {
    throw new TypeError("grpcMetrics: registry is required");
  }
  const labelNames = ["service", "method", "code"] as const;
  const duration = registry.histogram({
    name: "grpc_call_duration_seconds",
    help: "Duration of gRPC calls.",
    labelNames,
    buckets: options.buckets ?? durationBuckets,
  });
  const count = registry.counter({
    name: "grpc_call_count_total",
    help: "gRPC calls completed.",
    labelNames,
  });
  const maxMethods = options.maxMethods ?? 1000;
  if (!Number.isInteger(maxMethods) || maxMethods < 1) {
    throw new RangeError(
      `grpcMetrics: maxMethods must be an integer >= 1, got ${maxMethods}`,
    );
  }
  const methods = new Set<string>();
  const known = (service: string, method: string): boolean => {
    const key = `${service}/${method}`;
    if (methods.has(key)) return true;
    if (methods.size >= maxMethods) return false;
    methods.add(key);
    return true;
  };
  const record = (call: GrpcCall): void => {
    const keep = known(call.service, call.method);
    const labels = {
      service: keep ? call.service : "OTHER",
      method: keep ? call.method : "OTHER",
      code: NAMES.get(call.code) ?? "UNKNOWN",
    };
    duration.observe(labels, call.duration / 1000);
    count.inc(labels);
  };
  return {
    record,
    start(service, method) {
      const start = performance.now();
      return (code) => {
        const elapsed = performance.now() - start;
        record({ service, method, code, duration: elapsed });
        return elapsed;
      };
    },
  };
}
