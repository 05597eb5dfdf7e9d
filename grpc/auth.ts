import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Middleware } from "@cqi/http";
import { observe, requestOf } from "./call.ts";
import { CODE_KEY } from "./wire_error.ts";

const OK = new Response(null);

// What a refusing middleware's status becomes on the wire.
const CODES: Record<number, Code> = {
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  429: Code.ResourceExhausted,
  503: Code.Unavailable,
};

/**
 * Server interceptor that authenticates each call with an auth middleware
 * of `@cqi/auth` — `apiKey`, `jwt`, `anyOf`, with `requireScopes` composed
 * in — reading `authorization` (and the API key's extra header) from the
 * call's metadata. The caller is then available to the handler through
 * `getAuthContext()`, for the whole response stream too, and the identity
 * (or the refusal's reason) goes into the log fields as for HTTP. `exclude`
 * paths match the call's path, `/{service}/{method}`. A refusal becomes
 * UNAUTHENTICATED (401), PERMISSION_DENIED (403) or UNAVAILABLE (503, a
 * JWKS that cannot be fetched) with the middleware's public message only
 * (`authentication required`, `invalid credentials`).
 *
 * @example Usage
 * ```ts
 * import { createClient, createRouterTransport } from "@connectrpc/connect";
 * import { apiKey, getAuthContext } from "@cqi/auth";
 * import { grpcAuth } from "@cqi/grpc";
 * import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
 *
 * const transport = createRouterTransport((router) =>
 *   router.service(EchoService, {
 *     echo: (req) => ({ text: req.text, caller: getAuthContext().keyId }),
 *     async *count() {},
 *   }), {
 *   router: {
 *     interceptors: [grpcAuth(apiKey({ keys: [{ id: "ops", key: "s3cr3t-ops" }] }))],
 *   },
 * });
 * const client = createClient(EchoService, transport);
 * const res = await client.echo({ text: "hi" }, {
 *   headers: { authorization: "Bearer s3cr3t-ops" },
 * });
 * console.log(res.caller); // "ops"
 * await client.echo({ text: "hi" }).catch((e) => console.log(e.code)); // 16
 * ```
 *
 * @param auth An auth middleware of `@cqi/auth`.
 * @returns The interceptor.
 * @throws {TypeError} When `auth` is not a function.
 */
export function grpcAuth(auth: Middleware): Interceptor {
  if (typeof auth !== "function") {
    throw new TypeError("grpcAuth: expected an auth middleware");
  }
  return (next) => (req) =>
    new Promise((resolve, reject) => {
      let admitted = false;
      const inner = () =>
        new Promise<Response>((done) => {
          admitted = true;
          observe(req, next, () => done(OK)).then(resolve, reject);
        });
      let answer: Promise<Response>;
      try {
        answer = Promise.resolve(auth(requestOf(req), inner));
      } catch (error) {
        answer = Promise.reject(error);
      }
      answer.then(async (res) => {
        if (!admitted) reject(await refusal(res));
      }, (error) => {
        if (!admitted) reject(error);
      });
    });
}

async function refusal(res: Response): Promise<ConnectError> {
  let body: { error?: unknown; code?: unknown } = {};
  try {
    body = await res.json();
  } catch {
    // not the JSON error body: the status alone decides
  }
  const code = CODES[res.status] ?? Code.Internal;
  const message = typeof body.error === "string" && code !== Code.Internal
    ? body.error
    : "internal error";
  const metadata = new Headers();
  if (typeof body.code === "string") metadata.set(CODE_KEY, body.code);
  return new ConnectError(message, code, metadata);
}
