// Protobuf payloads for the bus and cache fuzz suites: random bytes, and
// valid encodings of `cqc.events.v1.PositionChanged` (and of the recursive
// `cqc.test.v1.Node`) with a few bytes flipped, cut, inserted or repeated.
import fc from "fast-check";
import { create, toBinary } from "@bufbuild/protobuf";
import { PositionChangedSchema } from "../../proto/gen/cqc/events/v1/position_changed_pb.ts";
import { NodeSchema } from "../../proto/gen/cqc/test/v1/node_pb.ts";

export { NodeSchema, PositionChangedSchema };

const position = fc.record({
  accountId: fc.string({ maxLength: 6 }),
  assetId: fc.string({ maxLength: 6 }),
  quantity: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  averagePrice: fc.double(),
  version: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
});

const positionChanged = fc.record({
  eventId: fc.string({ maxLength: 8 }),
  position,
  side: fc.integer({ min: -1, max: 3 }),
  reason: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
  previous: fc.array(position, { maxLength: 2 }),
  feeRate: fc.float(),
  deltaLots: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  sequence: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
}).map((init) =>
  toBinary(PositionChangedSchema, create(PositionChangedSchema, init))
);

// Three levels of Node: enough for nesting to matter to the edits.
const leaf = fc.record({ label: fc.string({ maxLength: 4 }) });
const mid = fc.record({
  label: fc.string({ maxLength: 4 }),
  children: fc.array(leaf, { maxLength: 2 }),
});
const node = fc.record({
  label: fc.string({ maxLength: 4 }),
  children: fc.array(mid, { maxLength: 2 }),
}).map((init) => toBinary(NodeSchema, create(NodeSchema, init)));

interface ByteEdit {
  at: number;
  op: "flip" | "cut" | "insert" | "repeat";
  byte: number;
}

const byteEdit: fc.Arbitrary<ByteEdit> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("flip", "cut", "insert", "repeat"),
  byte: fc.constantFrom(0x00, 0x08, 0x0a, 0x12, 0x7f, 0x80, 0xff, 0xfe, 0x0f),
});

function edited([bytes, edits]: [Uint8Array, ByteEdit[]]): Uint8Array {
  let b = bytes;
  for (const { at, op, byte } of edits) {
    const i = b.length === 0 ? 0 : at % (b.length + 1);
    switch (op) {
      case "flip":
        if (i < b.length) {
          b = b.slice();
          b[i] ^= byte || 1;
        }
        break;
      case "cut":
        b = b.slice(0, i);
        break;
      case "insert":
        b = new Uint8Array([...b.subarray(0, i), byte, ...b.subarray(i)]);
        break;
      case "repeat":
        b = new Uint8Array([
          ...b.subarray(0, i),
          ...b.subarray(i),
          ...b.subarray(i),
        ]);
        break;
    }
  }
  return b;
}

/** Bytes a producer (or another writer) may hand over as a message. */
export const protobufBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: positionChanged },
  {
    weight: 4,
    arbitrary: fc.tuple(
      fc.oneof(positionChanged, node),
      fc.array(byteEdit, { minLength: 1, maxLength: 3 }),
    ).map(edited),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 48 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // length past the end
      new Uint8Array([0x0a, 0x02, 0xc3, 0x28]), // invalid UTF-8 in a string
      new Uint8Array([0x18, ...new Array(11).fill(0xff)]), // overlong varint
      new Uint8Array([0x07]), // field 0
      new Uint8Array([0x0b, 0x0c]), // groups
      new Uint8Array([0x12, 0x00, 0x12, 0x00]), // a message field twice
    ),
  },
);

/** `Node` nested `depth` deep: children inside children. */
export function deepNode(depth: number): Uint8Array {
  const parts: number[][] = [];
  // Built from the inside out: each level is tag 0x12 and the inner length.
  let length = 0;
  for (let i = 0; i < depth; i++) {
    const prefix = [0x12, ...varint(length)];
    parts.push(prefix);
    length += prefix.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (let i = parts.length - 1; i >= 0; i--) {
    out.set(parts[i], offset);
    offset += parts[i].length;
  }
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
