import type { Interceptor } from "@connectrpc/connect";
import { grpcMetrics, type GrpcMetricsOptions } from "@cqi/metrics";
import { callName, codeOf, observe } from "./call.ts";

/**
 * Server (or client) interceptor that records every call with `grpcMetrics`
 * of `@cqi/metrics`: `{ns}_grpc_call_duration_seconds` and
 * `{ns}_grpc_call_count_total`, labelled `service`, `method` and `code`
 * (`OK`, `NOT_FOUND`, ...). A stream is timed until it ends; a call the
 * client abandons counts as CANCELLED. Distinct service/method pairs are
 * bounded by `maxMethods` (later ones count as `OTHER`).
 *
 * @example Usage
 * ```ts
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { createRegistry } from "@cqi/metrics";
 * import { grpcCallMetrics } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const registry = createRegistry({ namespace: "echo", defaultMetrics: false });
 * const transport = createRouterTransport((router) =>
 *   router.service(EchoService, {
 *     echo: (req) => ({ text: req.text }),
 *     async *count() {},
 *   }), { router: { interceptors: [grpcCallMetrics({ registry })] } });
 * await createClient(EchoService, transport).echo({ text: "hi" });
 * console.log((await registry.metrics()).includes('method="Echo",code="OK"')); // true
 * ```
 *
 * @param options The registry, buckets and `maxMethods` of `grpcMetrics`.
 * @returns The interceptor.
 */
export function grpcCallMetrics(options: GrpcMetricsOptions): Interceptor {
  const recorder = grpcMetrics(options);
  return (next) => (req) => {
    const { service, method } = callName(req);
    const done = recorder.start(service, method);
    return observe(req, next, (error) => {
      done(error === undefined ? 0 : codeOf(error, req.signal));
    });
  };
}
