// fast-check arbitraries for the test messages of proto/: every field kind,
// optional fields present or absent (absent keys, not `undefined`).
import fc from "fast-check";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import {
  type Asset,
  AssetClass,
  AssetSchema,
} from "../../proto/gen/cqc/entities/v1/asset_pb.ts";
import {
  type Position,
  type PositionChanged,
  PositionChangedSchema,
  PositionSchema,
  Side,
} from "../../proto/gen/cqc/events/v1/position_changed_pb.ts";

const text = fc.string({ unit: "binary", maxLength: 20 });
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
/** Known values and, proto3 enums being open, unknown ones. */
const enumOf = (values: number[]) =>
  fc.oneof(fc.constantFrom(...values), int32);

export const timestamp: fc.Arbitrary<Timestamp> = fc.record({
  seconds: fc.bigInt({ min: -62135596800n, max: 253402300799n }),
  nanos: fc.integer({ min: 0, max: 999_999_999 }),
}).map((init) => create(TimestampSchema, init));

export const asset: fc.Arbitrary<Asset> = fc.record({
  id: text,
  symbol: text,
  class: enumOf([
    AssetClass.UNSPECIFIED,
    AssetClass.EQUITY,
    AssetClass.CRYPTO,
    AssetClass.FX,
  ]),
  name: text,
  decimals: int32,
  listedAt: timestamp,
  tags: fc.dictionary(text, text, { maxKeys: 5, noNullPrototype: true }),
  lotSize: int64,
  active: fc.boolean(),
  venueData: fc.uint8Array({ maxLength: 20 }),
  aliases: fc.array(text, { maxLength: 4 }),
}, { requiredKeys: [] }).map((init) =>
  create(AssetSchema, init as MessageInitShape<typeof AssetSchema>)
);

export const position: fc.Arbitrary<Position> = fc.record({
  accountId: text,
  assetId: text,
  quantity: int64,
  averagePrice: fc.double(),
  version: uint64,
}, { requiredKeys: [] }).map((init) => create(PositionSchema, init));

export const positionChanged: fc.Arbitrary<PositionChanged> = fc.record({
  eventId: text,
  position,
  occurredAt: timestamp,
  side: enumOf([Side.UNSPECIFIED, Side.BUY, Side.SELL]),
  reason: text,
  previous: fc.array(position, { maxLength: 3 }),
  source: fc.oneof(
    fc.constant({ case: undefined }),
    text.map((value) => ({ case: "orderId" as const, value })),
    text.map((value) => ({ case: "transferId" as const, value })),
  ),
  feeRate: fc.float(),
  deltaLots: int32,
  sequence: uint64,
}, { requiredKeys: [] }).map((init) => create(PositionChangedSchema, init));
