import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EchoService } from "../proto/gen/cqc/test/v1/echo_pb.ts";
import { type Call, requestOf } from "./call.ts";

function call(url: string): Call {
  return {
    stream: false,
    service: EchoService,
    method: EchoService.method.echo,
    requestMethod: "POST",
    url,
    signal: new AbortController().signal,
    header: new Headers({ authorization: "Bearer k" }),
    contextValues: undefined as never,
    message: {} as never,
  } as Call;
}

describe("requestOf", () => {
  it("makes one Request per call, with the call's metadata", () => {
    const c = call("http://127.0.0.1:1/cqc.test.v1.EchoService/Echo");
    const req = requestOf(c);
    assert.equal(req, requestOf(c));
    assert.equal(req.headers.get("authorization"), "Bearer k");
    assert.equal(new URL(req.url).pathname, "/cqc.test.v1.EchoService/Echo");
  });

  it("survives a relative or broken URL (Bun's, for a bad Host header)", () => {
    for (const url of ["/cqc.test.v1.EchoService/Echo", "http://[bad", ""]) {
      const req = requestOf(call(url));
      assert.equal(req.method, "POST");
    }
  });
});
