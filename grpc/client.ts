import type { Interceptor } from "@connectrpc/connect";
import { observe } from "./call.ts";
import { grpcClientTracing } from "./tracing.ts";
import { toCqiError } from "./wire_error.ts";

/**
 * Client interceptor that turns a failed call into a `CqiError` of
 * `@cqi/errors`: NOT_FOUND comes back as kind `not_found`, and so on (the
 * exact CQI kind when a CQI server sent it in `cqi-error-code`, such as
 * `too_large` and `rate_limited` that share RESOURCE_EXHAUSTED). The
 * message is the server's public one; the `ConnectError` is the cause, and
 * the error still has Connect's `code` and `metadata` (only
 * `cqi-error-code` in it: no other response header of the server). A
 * connection that fails (refused, reset, fetch's `TypeError`) is kind
 * `temporary`; a body that is no answer is `permanent`, naming the method.
 * Failures in the middle of a response stream are turned too. A call the
 * caller aborts rejects as Connect rejects it (CANCELLED `ConnectError`).
 *
 * @example Usage
 * ```ts
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { isNotFound, notFound } from "@cqi/errors";
 * import { grpcClientErrors, grpcRecovery } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const transport = createRouterTransport((router) =>
 *   router.service(EchoService, {
 *     echo() {
 *       throw notFound("echo", 1);
 *     },
 *     async *count() {},
 *   }), {
 *   router: { interceptors: [grpcRecovery()] },
 *   transport: { interceptors: [grpcClientErrors()] },
 * });
 * const error = await createClient(EchoService, transport).echo({}).catch((e) => e);
 * console.log(isNotFound(error), error.message); // true "echo 1 not found"
 * ```
 *
 * @returns The interceptor.
 */
export function grpcClientErrors(): Interceptor {
  return (next) => (req) =>
    observe(
      req,
      next,
      () => {},
      (error) =>
        toCqiError(
          error,
          req.signal,
          `${req.service.typeName}/${req.method.name}`,
        ),
    );
}

/**
 * Options for {@linkcode grpcClientStack}.
 *
 * @example Usage
 * ```ts
 * import type { GrpcClientStackOptions } from "@cqi/grpc";
 *
 * const options: GrpcClientStackOptions = { token: () => "s3cr3t" };
 * ```
 */
export interface GrpcClientStackOptions {
  /**
   * A bearer credential sent as `authorization: Bearer <token>` on every
   * call (an API key or a JWT), or a function asked before each call (for
   * tokens that expire). Default none. It must be visible ASCII (spaces
   * inside only): anything else is refused with a `TypeError` that does not
   * echo it.
   */
  token?: string | (() => string | Promise<string>);
}

/**
 * The client interceptors, outermost first: `grpcClientTracing` (a client
 * span, `traceparent` sent), `grpcClientErrors` (failures as `CqiError`s)
 * and the bearer token when given. Pass it as a transport's
 * `interceptors`.
 *
 * @example Usage
 * ```ts
 * import { createClient } from "@connectrpc/connect";
 * import { createGrpcTransport } from "@connectrpc/connect-node";
 * import { grpcClientStack } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const client = createClient(
 *   EchoService,
 *   createGrpcTransport({
 *     baseUrl: "http://127.0.0.1:50051",
 *     interceptors: grpcClientStack({ token: "s3cr3t" }),
 *   }),
 * );
 * ```
 *
 * @param options The token.
 * @returns The interceptors.
 * @throws {TypeError} When `token` is neither a string nor a function, or
 * is a string that is not a valid header value (the call rejects so when a
 * token function returns one).
 */
export function grpcClientStack(
  options: GrpcClientStackOptions = {},
): Interceptor[] {
  const { token } = options ?? {};
  if (
    token !== undefined && typeof token !== "string" &&
    typeof token !== "function"
  ) {
    throw new TypeError(
      "grpcClientStack: token must be a string or a function",
    );
  }
  if (typeof token === "string") checkToken(token);
  const stack = [grpcClientTracing(), grpcClientErrors()];
  if (token !== undefined) {
    stack.push((next) => async (req) => {
      const value = typeof token === "string"
        ? token
        : checkToken(await token());
      req.header.set("authorization", `Bearer ${value}`);
      return next(req);
    });
  }
  return stack;
}

// Visible ASCII, spaces only inside: what a header value may carry.
const TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

function checkToken(token: unknown): string {
  if (typeof token !== "string" || !TOKEN.test(token)) {
    // The token itself is a secret: not in the message.
    throw new TypeError(
      "grpcClientStack: token must be visible ASCII, without spaces at its ends",
    );
  }
  return token;
}
