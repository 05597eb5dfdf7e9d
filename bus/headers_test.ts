import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CqiError } from "@cqi/errors";
import { eventHeaders, readEvent } from "./headers.ts";

const event = {
  id: "e1",
  type: "cqc.events.v1.PositionChanged",
  source: "cqpm",
  contentType: "application/x-protobuf",
  time: new Date("2026-12-04T00:00:00Z"),
};

describe("eventHeaders", () => {
  it("writes the CloudEvents binary-mode headers and the caller's", () => {
    assert.deepEqual(eventHeaders(event, { tenant: "eu" }), {
      "content-type": "application/x-protobuf",
      ce_specversion: "1.0",
      ce_id: "e1",
      ce_type: "cqc.events.v1.PositionChanged",
      ce_source: "cqpm",
      ce_time: "2026-12-04T00:00:00.000Z",
      tenant: "eu",
    });
  });

  it("refuses headers the bus owns and values that are not strings", () => {
    for (
      const name of [
        "ce_id",
        "CE_TYPE",
        "content-type",
        "traceparent",
        "tracestate",
        "baggage",
        "cqi-error-kind",
      ]
    ) {
      assert.throws(
        () => eventHeaders(event, { [name]: "x" }),
        (e) => e instanceof CqiError && e.kind === "invalid_input",
        name,
      );
    }
    assert.throws(
      () => eventHeaders(event, { a: 1 } as never),
      /expected a string value/,
    );
    assert.throws(() => eventHeaders(event, "x" as never), /expected a record/);
  });
});

describe("readEvent", () => {
  it("reads id, type and time, and falls back for absent or bad ones", () => {
    assert.deepEqual(
      readEvent(
        { ce_id: "a", ce_type: "t", ce_time: "2026-12-04T00:00:00Z" },
        "f",
      ),
      {
        id: "a",
        type: "t",
        time: new Date("2026-12-04T00:00:00Z"),
      },
    );
    assert.deepEqual(readEvent({ ce_time: "yesterday" }, "f"), {
      id: "f",
      type: "",
      time: undefined,
    });
  });

  it("never throws on hostile headers", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(fc.constantFrom("ce_id", "ce_type", "ce_time"), fc.string()),
          fc.string(),
        ),
        (headers) => {
          const read = readEvent(headers, "fallback");
          assert.equal(typeof read.id, "string");
          assert.ok(read.id.length > 0);
          assert.equal(typeof read.type, "string");
          assert.ok(
            read.time === undefined || !Number.isNaN(read.time.getTime()),
          );
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
