import { Code, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { extract, inject, startSpan } from "@cqi/tracing";
import {
  type Call,
  callName,
  type CallResponse,
  codeName,
  codeOf,
  observe,
} from "./call.ts";

// Server errors by the RPC semantic conventions; the rest are the caller's.
const SERVER_FAULTS: ReadonlySet<number> = new Set([
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Unimplemented,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
]);

/**
 * Server interceptor that gives each call a server span named
 * `{service}/{method}` (such as `cqc.test.v1.EchoService/Echo`), a child
 * of the caller's span when the metadata carries a valid W3C `traceparent`
 * (an invalid one is ignored: the span starts a new trace). It has the RPC
 * semantic-convention attributes `rpc.system` (`grpc` for gRPC and
 * gRPC-Web, `connect_rpc` for Connect), `rpc.service`, `rpc.method` and
 * `rpc.grpc.status_code` (or `rpc.connect_rpc.error_code`); it ends when
 * the response, or the last message of a stream, is sent. UNKNOWN,
 * DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS
 * mark it failed. The handler runs with the span active, so `startSpan` of
 * `@cqi/tracing` nests under it. Without `createTracing` it only carries
 * the caller's context through.
 *
 * @example Usage
 * ```ts
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { createTracing } from "@cqi/tracing";
 * import { grpcTracing } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * await using tracing = createTracing({
 *   service: { name: "echo", version: "1.0.0", environment: "dev" },
 *   exporter: "memory",
 *   sampler: "always",
 * });
 * const transport = createRouterTransport((router) =>
 *   router.service(EchoService, {
 *     echo: (req) => ({ text: req.text }),
 *     async *count() {},
 *   }), { router: { interceptors: [grpcTracing()] } });
 * await createClient(EchoService, transport).echo({ text: "hi" });
 * console.log(tracing.spans()[0].name); // "cqc.test.v1.EchoService/Echo"
 * ```
 *
 * @returns The interceptor.
 */
export function grpcTracing(): Interceptor {
  return (next) => (req) => traced(req, next, "server");
}

/**
 * Client interceptor that gives each outgoing call a client span named
 * `{service}/{method}` with the RPC attributes, and sends its
 * `traceparent` (and baggage) in the request metadata, so the server's
 * span is its child. Every code but OK marks it failed. Without
 * `createTracing` it still sends the active context.
 *
 * @example Usage
 * ```ts
 * import { createClient } from "@connectrpc/connect";
 * import { createConnectTransport } from "@connectrpc/connect-web";
 * import { grpcClientTracing } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const client = createClient(
 *   EchoService,
 *   createConnectTransport({
 *     baseUrl: "http://127.0.0.1:8080",
 *     interceptors: [grpcClientTracing()],
 *   }),
 * );
 * ```
 *
 * @returns The interceptor.
 */
export function grpcClientTracing(): Interceptor {
  return (next) => (req) => traced(req, next, "client");
}

function traced(
  req: Call,
  next: (req: Call) => Promise<CallResponse>,
  kind: "server" | "client",
): Promise<CallResponse> {
  const { service, method } = callName(req);
  const grpc = kind === "server"
    ? (req.header.get("content-type") ?? "").startsWith("application/grpc")
    : undefined;
  const attributes = {
    "rpc.system": grpc === false ? "connect_rpc" : "grpc",
    "rpc.service": service,
    "rpc.method": method,
  };
  const parent = kind === "server" ? extract(req.header) : undefined;
  return new Promise((resolve, reject) => {
    startSpan(
      `${service}/${method}`,
      () =>
        new Promise<void>((done) => {
          const span = trace.getActiveSpan();
          if (kind === "client") inject(req.header);
          observe(req, next, (error) => {
            if (span?.isRecording() === true) {
              const code = error === undefined ? 0 : codeOf(error, req.signal);
              if (grpc === false) {
                if (code !== 0) {
                  span.setAttribute(
                    "rpc.connect_rpc.error_code",
                    codeToString(code),
                  );
                }
              } else span.setAttribute("rpc.grpc.status_code", code);
              if (
                code !== 0 && (kind === "client" || SERVER_FAULTS.has(code))
              ) {
                span.setAttribute("error.type", codeName(code));
                span.setStatus({ code: SpanStatusCode.ERROR });
              }
            }
            done();
          }).then(resolve, reject);
        }),
      attributes,
      { kind, ...(parent === undefined ? {} : { parent }) },
    );
  });
}
