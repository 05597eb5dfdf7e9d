// Fuzzing protobuf payloads on the bus (issue 20): bytes published to the
// topic of `cqc.events.v1.PositionChanged` under its type name, as a
// producer that does not use CQI (or a broken one) may send them. A
// subscriber's handler only ever sees a decoded PositionChanged; a payload
// that does not decode is dead-lettered as `invalid_input`; nothing throws.
// The codec the bus decodes with is also run on its own, on a recursive
// schema (cqc.test.v1.Node).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createBus, type DeadLetterInfo } from "@cqi/bus";
import { type Codec, protobuf } from "@cqi/codec";
import { CqiError } from "@cqi/errors";
import { RUNS, TIMEOUT } from "./_hostile.ts";
import {
  deepNode,
  NodeSchema,
  PositionChangedSchema,
  protobufBytes,
} from "./_protobuf.ts";

const TYPE = "cqc.events.v1.PositionChanged";

/** Sends bytes as they are, under PositionChanged's name and content type. */
const forged: Codec<Uint8Array> = {
  name: TYPE,
  contentType: "application/x-protobuf",
  encode: (bytes) => bytes,
  decode: (bytes) => bytes,
};

function decodesOrRefuses(codec: Codec<unknown>, bytes: Uint8Array): void {
  try {
    codec.decode(bytes);
  } catch (error) {
    assert.ok(error instanceof CqiError, String(error));
    assert.equal(error.kind, "invalid_input");
  }
}

describe("fuzz: protobuf payloads on the bus", () => {
  it("regression: a Node nested 100 000 deep is refused, not a crash", () => {
    decodesOrRefuses(protobuf(NodeSchema), deepNode(100_000));
  });

  it(
    `a subscriber sees only decoded messages; the rest is dead-lettered (${RUNS} cases)`,
    {
      timeout: TIMEOUT,
    },
    async () => {
      // One bus, one subscription for every case; the cases go one at a time
      // (one partition, concurrency 1), each awaiting its own outcome.
      let settle: ((outcome: string) => void) | undefined;
      const outcome = () => new Promise<string>((resolve) => settle = resolve);
      const dead: DeadLetterInfo[] = [];
      await using bus = createBus("memory://", {
        partitions: 1,
        onDeadLetter: (info) => {
          dead.push(info);
          settle?.(`dead:${info.kind}:${info.outcome}`);
        },
      });
      await bus.subscribe(PositionChangedSchema, (message) => {
        assert.equal(message.value.$typeName, TYPE);
        assert.equal(message.type, TYPE);
        settle?.("handled");
      }, { group: "fuzz", deadLetter: false });
      let handled = 0;
      const node = protobuf(NodeSchema);
      await fc.assert(
        fc.asyncProperty(protobufBytes, async (bytes) => {
          // The codec alone, with a recursive schema too.
          decodesOrRefuses(node, bytes);
          const next = outcome();
          await bus.publish(forged, bytes);
          const result = await next;
          if (result === "handled") {
            handled++;
            return;
          }
          // A handler assertion failing would be kind "unknown": a bad value.
          assert.equal(result, "dead:invalid_input:dropped");
        }),
        { numRuns: RUNS },
      );
      assert.ok(handled > 0, "no generated payload decoded");
      assert.ok(dead.length > 0, "every generated payload decoded");
    },
  );
});
