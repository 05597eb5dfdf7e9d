/**
 * Connect-ES v2 interceptors that give gRPC, gRPC-Web and Connect calls the
 * same middleware as HTTP, and a fetch handler that serves them on
 * `Deno.serve` and `Bun.serve`.
 *
 * - {@linkcode grpcStack}: the canonical server stack, outermost first —
 *   {@linkcode grpcTracing} (W3C `traceparent`, `rpc.*` attributes),
 *   {@linkcode grpcAccessLog} (one line per call), {@linkcode grpcCallMetrics}
 *   (`grpcMetrics` of `@cqi/metrics`), {@linkcode grpcRecovery} (CQI kinds
 *   to gRPC codes, nothing internal on the wire) and {@linkcode grpcAuth}
 *   (the auth middleware of `@cqi/auth`, `getAuthContext()` in handlers).
 * - {@linkcode connectHandler}: Connect and gRPC-Web as a fetch handler;
 *   real gRPC over HTTP/2 through `connectNodeAdapter` of
 *   `@connectrpc/connect-node` with the same interceptors.
 * - {@linkcode grpcClientStack}: client tracing, {@linkcode grpcClientErrors}
 *   (failures come back as `CqiError`s) and a bearer token.
 *
 * @example Usage
 * ```ts
 * import { createClient } from "@connectrpc/connect";
 * import { createConnectTransport } from "@connectrpc/connect-web";
 * import { apiKey, getAuthContext } from "@cqi/auth";
 * import { isNotFound, notFound } from "@cqi/errors";
 * import { serve } from "@cqi/http";
 * import { createLogger } from "@cqi/logging";
 * import { connectHandler, grpcClientStack, grpcStack } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const handler = connectHandler((router) =>
 *   router.service(EchoService, {
 *     echo(req) {
 *       if (req.text === "") throw notFound("text");
 *       return { text: req.text, caller: getAuthContext().keyId };
 *     },
 *     async *count() {},
 *   }), {
 *   interceptors: grpcStack({
 *     logger: createLogger({ level: "error" }),
 *     auth: apiKey({ keys: [{ id: "ops", key: "s3cr3t-ops" }] }),
 *   }),
 * });
 * await using server = serve(handler, {
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   handleSignals: false,
 * });
 * const client = createClient(
 *   EchoService,
 *   createConnectTransport({
 *     baseUrl: `http://127.0.0.1:${server.addr.port}`,
 *     interceptors: grpcClientStack({ token: "s3cr3t-ops" }),
 *   }),
 * );
 * console.log(await client.echo({ text: "hi" })); // { text: "hi", caller: "ops", ... }
 * const error = await client.echo({ text: "" }).catch((e) => e);
 * console.log(isNotFound(error)); // true
 * ```
 *
 * @module
 */
export {
  grpcClientErrors,
  grpcClientStack,
  type GrpcClientStackOptions,
} from "./client.ts";
export {
  connectHandler,
  type ConnectHandlerOptions,
  type RejectedCall,
} from "./handler.ts";
export { grpcAccessLog } from "./access_log.ts";
export { grpcAuth } from "./auth.ts";
export { grpcCallMetrics } from "./metrics.ts";
export {
  grpcRecovery,
  type GrpcRecoveryOptions,
  type RecoveredCall,
} from "./recovery.ts";
export { grpcStack, type GrpcStackOptions } from "./stack.ts";
export { grpcClientTracing, grpcTracing } from "./tracing.ts";
// Connect's own types that this module's signatures use, for convenience.
export type {
  ConnectRouter,
  ConnectRouterOptions,
  Interceptor,
} from "@connectrpc/connect";
