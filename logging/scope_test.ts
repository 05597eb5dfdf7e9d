import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger, logger, memorySink, setDefaultLogger } from "./mod.ts";
import { withRequestScope } from "@cqi/http";
import { bindLogger } from "./scope.ts";

describe("logger()", () => {
  it("returns a stdout logger by default, the same each time", () => {
    const first = logger();
    assert.equal(first, logger());
    assert.equal(first.level, "info");
  });

  it("returns the default logger outside a request, once set", () => {
    const sink = memorySink();
    const log = createLogger({ service: { name: "default" }, output: sink });
    setDefaultLogger(log);
    assert.equal(logger(), log);
    logger().info("hello");
    assert.equal(sink.records[0].service_name, "default");
  });

  it("returns the request's logger inside one, across awaits", async () => {
    const request = createLogger({ output: memorySink() });
    const seen = await withRequestScope(async () => {
      bindLogger(request);
      await new Promise((r) => setTimeout(r, 1));
      return logger();
    });
    assert.equal(seen, request);
    assert.notEqual(logger(), request);
  });
});
