import type { Interceptor } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { addLogFields, setRoute } from "@cqi/http";
import { accessLog, type AccessLogOptions } from "@cqi/logging";
import { callName, codeName, codeOf, observe, requestOf } from "./call.ts";

/**
 * Server interceptor that writes one access line per call, as `accessLog`
 * of `@cqi/logging` does for HTTP (it is that middleware underneath): the
 * same fields — `request_id` (from `x-request-id` metadata when valid),
 * `method`, `route` (`/{service}/{method}`), `status`, `duration_ms`,
 * `user_agent`, the auth fields — plus `rpc_service`, `rpc_method` and
 * `grpc_code` (`OK`, `NOT_FOUND`, ...). `status` is the HTTP status
 * Connect maps the code to, which sets the level as for HTTP: error for
 * 5xx, warn for 4xx, info for OK and CANCELLED. A stream's line is written
 * when the stream ends, with its whole duration. Inside the handler
 * `logger()` of `@cqi/logging` carries the call's `request_id`.
 *
 * @example Usage
 * ```ts
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { createLogger, memorySink } from "@cqi/logging";
 * import { grpcAccessLog } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const sink = memorySink();
 * const logger = createLogger({ output: sink });
 * const transport = createRouterTransport((router) =>
 *   router.service(EchoService, {
 *     echo: (req) => ({ text: req.text }),
 *     async *count() {},
 *   }), { router: { interceptors: [grpcAccessLog({ logger })] } });
 * await createClient(EchoService, transport).echo({ text: "hi" });
 * await logger.flush();
 * console.log(sink.records[0].grpc_code); // "OK"
 * ```
 *
 * @param options The options of `accessLog` (logger, request id header, ...).
 * @returns The interceptor.
 */
export function grpcAccessLog(options: AccessLogOptions = {}): Interceptor {
  const log = accessLog(options);
  return (next) => (req) =>
    new Promise((resolve, reject) => {
      const { service, method } = callName(req);
      log(requestOf(req), () =>
        new Promise<Response>((done) => {
          setRoute(`/${service}/${method}`);
          observe(req, next, (error) => {
            const code = error === undefined ? 0 : codeOf(error, req.signal);
            addLogFields({
              rpc_service: service,
              rpc_method: method,
              grpc_code: codeName(code),
            });
            done(
              new Response(null, {
                status: code === 0 ? 200 : codeToHttpStatus(code),
              }),
            );
          }).then(resolve, reject);
        })).catch(reject);
    });
}
