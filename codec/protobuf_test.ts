import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { protobuf, toCodec } from "./mod.ts";
import {
  AssetClass,
  AssetSchema,
} from "../proto/gen/cqc/entities/v1/asset_pb.ts";
import {
  PositionChangedSchema,
  PositionSchema,
  Side,
} from "../proto/gen/cqc/events/v1/position_changed_pb.ts";
import { NodeSchema } from "../proto/gen/cqc/test/v1/node_pb.ts";
import { asset, positionChanged } from "./testdata/arbitraries.ts";
import { decodeOrInvalid, throwsInvalid } from "./testdata/assert.ts";

const ASSET = "cqc.entities.v1.Asset";
const EVENT = "cqc.events.v1.PositionChanged";
const NODE = "cqc.test.v1.Node";

const assets = protobuf(AssetSchema);
const events = protobuf(PositionChangedSchema);
const nodes = protobuf(NodeSchema);

/** `Node { children: [Node { children: [...] }] }`, `depth` messages deep. */
function nestedNodes(depth: number): Uint8Array {
  // Each level is tag 0x12 (field 2, length-delimited), its length, the
  // level inside; lengths are worked out from the innermost level outwards.
  const lengths = [0];
  for (let i = 1; i < depth; i++) {
    const inner = lengths[i - 1];
    lengths.push(1 + varintLength(inner) + inner);
  }
  const out = new Uint8Array(lengths[depth - 1]);
  let pos = 0;
  for (let i = depth - 2; i >= 0; i--) {
    out[pos++] = 0x12;
    for (let n = lengths[i];; n >>>= 7) {
      if (n < 0x80) {
        out[pos++] = n;
        break;
      }
      out[pos++] = (n & 0x7f) | 0x80;
    }
  }
  return out;
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n >>>= 7;
    length++;
  }
  return length;
}

describe("protobuf", () => {
  it("names the codec by the message type and uses application/x-protobuf", () => {
    assert.equal(assets.name, ASSET);
    assert.equal(assets.contentType, "application/x-protobuf");
    assert.equal(events.name, EVENT);
  });

  it("is one codec per schema, the one toCodec returns", () => {
    assert.equal(protobuf(AssetSchema), assets);
    assert.equal(toCodec(AssetSchema), assets);
    assert.notEqual(protobuf(PositionSchema), assets);
  });

  it("round-trips an Asset with every field kind set", () => {
    const value = create(AssetSchema, {
      id: "asset-btc",
      symbol: "BTC",
      class: AssetClass.CRYPTO,
      name: "Bitcoin ₿",
      decimals: 8,
      listedAt: timestampFromDate(new Date("2009-01-03T18:15:05.123Z")),
      tags: { venue: "xnas", tier: "1" },
      lotSize: -(2n ** 63n),
      active: true,
      venueData: new Uint8Array([0, 255, 7]),
      aliases: ["XBT", ""],
    });
    const bytes = assets.encode(value);
    assert.deepEqual(bytes, toBinary(AssetSchema, value));
    assert.deepEqual(assets.decode(bytes), value);
  });

  it("keeps an optional field unset apart from one set to its zero value", () => {
    const unset = assets.decode(assets.encode(create(AssetSchema, {})));
    assert.equal(unset.name, undefined);
    assert.equal(unset.listedAt, undefined);
    assert.equal(assets.encode(unset).length, 0);
    const empty = assets.decode(
      assets.encode(create(AssetSchema, { name: "" })),
    );
    assert.equal(empty.name, "");
  });

  it("round-trips a PositionChanged: nested message, Timestamp, enum, oneof", () => {
    const value = create(PositionChangedSchema, {
      eventId: "evt-1",
      position: {
        accountId: "acc-7",
        assetId: "asset-btc",
        quantity: 150_000_000n,
        averagePrice: 43_210.5,
        version: 2n ** 64n - 1n,
      },
      occurredAt: { seconds: 1_700_000_000n, nanos: 999_999_999 },
      side: Side.SELL,
      reason: "rebalance",
      previous: [{ accountId: "acc-7", quantity: -1n }],
      source: { case: "orderId", value: "ord-42" },
      feeRate: Math.fround(0.001),
      deltaLots: -3,
      sequence: 12n,
    });
    const decoded = events.decode(events.encode(value));
    assert.deepEqual(decoded, value);
    assert.equal(decoded.reason, "rebalance");
    assert.equal(decoded.source.case, "orderId");
  });

  it("round-trips an enum value the schema does not know (open enum)", () => {
    const value = create(AssetSchema, { class: 99 as AssetClass });
    assert.equal(assets.decode(assets.encode(value)).class, 99);
  });

  it("passes unknown fields through (a newer writer's data survives)", () => {
    // field 100, varint 1: not in Asset
    const bytes = new Uint8Array([0x0a, 0x01, 0x41, 0xa0, 0x06, 0x01]);
    const value = assets.decode(bytes);
    assert.equal(value.id, "A");
    assert.deepEqual(assets.encode(value), bytes);
  });

  it("round-trips arbitrary valid messages (property)", () => {
    fc.assert(
      fc.property(asset, (value) => {
        assert.deepEqual(assets.decode(assets.encode(value)), value);
      }),
    );
    fc.assert(
      fc.property(positionChanged, (value) => {
        assert.deepEqual(events.decode(events.encode(value)), value);
      }),
    );
  });

  describe("decoding hostile bytes", () => {
    // What protobuf-es 2.17 throws for each, as measured: see reason() in
    // protobuf.ts. Each becomes invalid_input naming the type.
    const cases: Array<[string, number[], string]> = [
      ["garbage", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "data ends early"],
      ["a truncated string", [0x0a, 0x05, 0x61], "data ends early"],
      [
        "a length of 4 GiB",
        [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
        "data ends early",
      ],
      [
        "a huge length on a message field",
        [0x32, 0xff, 0xff, 0xff, 0xff, 0x07],
        "data ends early",
      ],
      ["a group never closed", [0xa3, 0x06], "data ends early"],
      ["wire type 7", [0x0f], "illegal field tag"],
      ["field number 0", [0x00, 0x01], "illegal field tag"],
      [
        "a varint of 11 bytes",
        [0x28, ...Array(10).fill(0xff), 0x01],
        "malformed varint",
      ],
      [
        "a string that is not UTF-8",
        [0x0a, 0x02, 0xc3, 0x28],
        "a string field is not valid UTF-8",
      ],
      [
        "a map key that is not UTF-8",
        [0x3a, 0x04, 0x0a, 0x02, 0xc3, 0x28],
        "a string field is not valid UTF-8",
      ],
      ["a Timestamp cut short", [0x32, 0x02, 0x08], "data ends early"],
    ];
    for (const [what, bytes, reason] of cases) {
      it(`rejects ${what}: "${reason}"`, () => {
        const error = throwsInvalid(
          () => assets.decode(new Uint8Array(bytes)),
          ASSET,
        );
        assert.equal(error.message, `invalid ${ASSET}: ${reason}`);
        assert.ok(
          error.cause instanceof Error,
          "the library's error is the cause",
        );
      });
    }

    it("reads a wrong wire type on a known field as the schema's type", () => {
      // field 1 (string) sent as a varint: protobuf-es 2.17 does not check the
      // wire type of a known field and reads a length and a string anyway
      assert.equal(assets.decode(new Uint8Array([0x08, 0x01, 0x41])).id, "A");
      // where that goes off the rails, the decode fails as any other
      throwsInvalid(
        () => assets.decode(new Uint8Array([0x2d, 0x01, 0, 0, 0])),
        ASSET,
      );
    });

    it("decodes 100 nested messages and rejects 101 and 100,000", () => {
      // protobuf-es stops at its default recursionLimit of 100 messages,
      // long before the stack would overflow
      let node = nodes.decode(nestedNodes(100));
      let depth = 1;
      while (node.children.length > 0) {
        node = node.children[0];
        depth++;
      }
      assert.equal(depth, 100);
      for (const n of [101, 100_000]) {
        const error = throwsInvalid(() => nodes.decode(nestedNodes(n)), NODE);
        assert.equal(error.message, `invalid ${NODE}: nested too deeply`);
      }
    });

    it("rejects 100,000 nested groups in an unknown field", () => {
      const bytes = new Uint8Array(200_000);
      for (let i = 0; i < bytes.length; i += 2) bytes.set([0xa3, 0x06], i);
      const error = throwsInvalid(() => nodes.decode(bytes), NODE);
      assert.equal(error.message, `invalid ${NODE}: nested too deeply`);
    });

    it("rejects 100,000 levels that each claim more length than there is", () => {
      const bytes = new Uint8Array(200_000);
      for (let i = 0; i < bytes.length; i += 2) bytes.set([0x12, 0x7f], i);
      throwsInvalid(() => nodes.decode(bytes), NODE);
    });

    it("rejects a value that is not a Uint8Array", () => {
      for (const value of ["\x0a\x01A", new ArrayBuffer(2), null, [0x0a]]) {
        throwsInvalid(
          () => assets.decode(value as unknown as Uint8Array),
          ASSET,
        );
      }
    });

    it("returns a message or throws invalid_input for arbitrary bytes (property)", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          for (const codec of [assets, events, nodes]) {
            decodeOrInvalid((b) => codec.decode(b), bytes, codec.name);
          }
        }),
        { numRuns: 2_000 },
      );
    });

    it("returns a message or throws invalid_input for damaged messages (property)", () => {
      const damaged = fc.tuple(
        positionChanged.map((value) => events.encode(value)),
        fc.nat(),
        fc.nat({ max: 255 }),
        fc.boolean(),
      ).map(([bytes, at, byte, truncate]) => {
        if (bytes.length === 0) return bytes;
        const i = at % bytes.length;
        if (truncate) return bytes.subarray(0, i);
        const copy = bytes.slice();
        copy[i] = byte;
        return copy;
      });
      fc.assert(
        fc.property(damaged, (bytes) => {
          decodeOrInvalid((b) => events.decode(b), bytes, EVENT);
          decodeOrInvalid((b) => assets.decode(b), bytes, ASSET);
        }),
        { numRuns: 1_000 },
      );
    });
  });

  describe("encoding", () => {
    it("rejects a message of another type, or not a message", () => {
      const node = create(NodeSchema);
      const error = throwsInvalid(() => assets.encode(node as never), ASSET);
      assert.equal(
        error.message,
        `invalid ${ASSET}: expected a ${ASSET} message, got ${NODE}`,
      );
      for (const value of [{ id: "x" }, null, undefined, "x"]) {
        throwsInvalid(() => assets.encode(value as never), ASSET);
      }
    });

    it("rejects a field value the wire format cannot hold, naming the field", () => {
      const error = throwsInvalid(
        () => assets.encode(create(AssetSchema, { decimals: 1.5 })),
        ASSET,
      );
      assert.equal(
        error.message,
        `invalid ${ASSET}: cannot encode field decimals`,
      );
      assert.ok(!error.message.includes("1.5"), "the value is not quoted");
      const big = create(AssetSchema, { lotSize: 2n ** 70n });
      assert.equal(
        throwsInvalid(() => assets.encode(big), ASSET).message,
        `invalid ${ASSET}: cannot encode field lot_size`,
      );
      const nested = create(PositionChangedSchema, {
        position: { quantity: 2n ** 64n },
      });
      assert.equal(
        throwsInvalid(() => events.encode(nested), EVENT).message,
        `invalid ${EVENT}: cannot encode field cqc.events.v1.Position.quantity`,
      );
    });
  });

  it("rejects a schema that is not a message schema", () => {
    assert.throws(() => protobuf({} as never), TypeError);
    assert.throws(() => protobuf(null as never), TypeError);
  });
});
