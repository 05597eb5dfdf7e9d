import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
} from "@connectrpc/connect";
import { apiKey } from "@cqi/auth";
import { notFound } from "@cqi/errors";
import { grpcAuth, grpcRecovery, type RecoveredCall } from "./mod.ts";
import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";

describe("grpcRecovery", () => {
  it("tells every hook, ignores a hook that throws, still maps", async () => {
    const seen: RecoveredCall[] = [];
    const transport = createRouterTransport(
      (router) =>
        router.service(EchoService, {
          echo() {
            throw notFound("echo", 7);
          },
          async *count() {},
        }),
      {
        router: {
          interceptors: [grpcRecovery({
            onError: [() => {
              throw new Error("hook failed");
            }, (r) => seen.push(r)],
          })],
        },
      },
    );
    const error = await createClient(EchoService, transport).echo({}).catch((
      e,
    ) => e);
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.NotFound);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].service, "cqc.test.v1.EchoService");
    assert.equal(seen[0].method, "Echo");
    assert.equal(seen[0].code, Code.NotFound);
    assert.throws(() => grpcRecovery({ onError: [42 as never] }), TypeError);
  });
});

describe("grpcAuth", () => {
  it("lets excluded methods pass, matched on /{service}/{method}", async () => {
    const transport = createRouterTransport(
      (router) =>
        router.service(EchoService, {
          echo: (req) => ({ text: req.text }),
          async *count() {
            yield { n: 1 };
          },
        }),
      {
        router: {
          interceptors: [
            grpcRecovery(),
            grpcAuth(apiKey({
              keys: [{ id: "k", key: "s3cr3t-key-000" }],
              exclude: ["/cqc.test.v1.EchoService/Echo"],
            })),
          ],
        },
      },
    );
    const client = createClient(EchoService, transport);
    assert.equal((await client.echo({ text: "open" })).text, "open");
    const refused = await (async () => {
      for await (const _ of client.count({ to: 1 })) { /* drain */ }
    })().catch((e) => e);
    assert.equal((refused as ConnectError).code, Code.Unauthenticated);
  });
});
