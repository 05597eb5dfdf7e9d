// The contract every @cqi/cache backend keeps: one suite, run against memory
// and against the machine's Redis, on Deno and on Bun (cache_memory_test.ts,
// cache_redis_test.ts). Time is a fake clock: an entry's freshness is read
// from it on both backends (Redis keeps entries longer only for grace).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import * as v from "valibot";
import type { Cache, CacheEvent, CacheOptions, CommandInfo } from "@cqi/cache";
import { bytes, json } from "@cqi/codec";
import { FakeClock } from "../../retry/testdata/fake_clock.ts";
import { isNotFound, kindOf, notFound, temporary } from "@cqi/errors";
import {
  AssetClass,
  AssetSchema,
} from "../../proto/gen/cqc/entities/v1/asset_pb.ts";
import { rejectsWith } from "../_assert.ts";

/** Opens the backend under test. */
export type OpenCache = (options: CacheOptions) => Cache;

/** A clock at the wall time, moving only when told (`advance`). */
export function fakeClock(): FakeClock {
  return new FakeClock({ start: Date.now() });
}

const asset = create(AssetSchema, {
  id: "asset-btc",
  symbol: "BTC",
  class: AssetClass.CRYPTO,
  name: "Bitcoin",
  decimals: 8,
  listedAt: timestampFromDate(new Date("2009-01-03T18:15:05Z")),
  tags: { venue: "xnas" },
  lotSize: 100n,
  active: true,
  venueData: new Uint8Array([0, 1, 255]),
  aliases: ["XBT"],
});

const Note = json(v.object({ text: v.string() }), { name: "note" });

/** Runs the contract against `open`. */
export function cacheContract(name: string, open: OpenCache): void {
  describe(`cache contract: ${name}`, () => {
    const clock = fakeClock();
    const commands: { info: CommandInfo; error?: unknown }[] = [];
    const events: CacheEvent[] = [];
    const run = crypto.randomUUID().slice(0, 8);
    let cache: Cache;
    const key = (...parts: string[]) => cache.key("ct", run, ...parts);

    before(() => {
      cache = open({
        service: { name: "cqi-contract" },
        clock,
        onCommand: async (info, run) => {
          const seen: (typeof commands)[number] = { info };
          commands.push(seen);
          try {
            return await run();
          } catch (error) {
            seen.error = error;
            throw error;
          }
        },
        onEvent: (event) => events.push(event),
      });
    });
    after(() => cache.close());

    it("round-trips a protobuf message, every field kind", async () => {
      await cache.set(key("asset"), AssetSchema, asset, { ttl: 60_000 });
      const got = await cache.get(key("asset"), AssetSchema);
      assert.deepEqual(got, asset);
      assert.equal(got.$typeName, "cqc.entities.v1.Asset");
    });

    it("round-trips JSON through a Standard Schema, and raw bytes", async () => {
      await cache.set(key("note"), Note, { text: "héllo" }, { ttl: 60_000 });
      assert.deepEqual(await cache.get(key("note"), Note), { text: "héllo" });
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      await cache.set(key("bytes"), bytes, all, { ttl: 60_000 });
      assert.deepEqual(await cache.get(key("bytes"), bytes), all);
      await cache.set(key("empty"), bytes, new Uint8Array(), { ttl: 60_000 });
      assert.deepEqual(await cache.get(key("empty"), bytes), new Uint8Array());
    });

    it("a miss: get rejects not_found, find gives undefined", async () => {
      const error = await rejectsWith(
        cache.get(key("absent"), AssetSchema),
        "not_found",
      );
      assert.ok(isNotFound(error));
      assert.equal(await cache.find(key("absent"), AssetSchema), undefined);
    });

    it("an entry is gone once its ttl has passed", async () => {
      await cache.set(key("short"), Note, { text: "x" }, { ttl: 1_000 });
      clock.advance(999);
      assert.deepEqual(await cache.find(key("short"), Note), { text: "x" });
      clock.advance(1);
      assert.equal(await cache.find(key("short"), Note), undefined);
    });

    it("values cannot be changed through what get returned or set took", async () => {
      const value = new Uint8Array([1, 2, 3]);
      await cache.set(key("alias"), bytes, value, { ttl: 60_000 });
      value[0] = 9;
      const got = await cache.get(key("alias"), bytes);
      assert.deepEqual(got, new Uint8Array([1, 2, 3]));
      got[1] = 9;
      const again = await cache.get(key("alias"), AssetSchema).catch(() => 0);
      assert.ok(again !== undefined);
      assert.deepEqual(
        await cache.get(key("alias"), bytes),
        new Uint8Array([1, 2, 3]),
      );
      const stored = await cache.get(key("asset"), AssetSchema);
      stored.venueData[0] = 42;
      assert.equal(
        (await cache.get(key("asset"), AssetSchema)).venueData[0],
        0,
      );
    });

    it("getMany and setMany take one round trip each", async () => {
      const before = commands.length;
      await cache.setMany(
        [
          { key: key("m1"), value: { text: "1" } },
          { key: key("m2"), value: { text: "2" } },
        ],
        Note,
        { ttl: 60_000 },
      );
      const values = await cache.getMany(
        [key("m1"), key("absent"), key("m2")],
        Note,
      );
      assert.deepEqual(values, [{ text: "1" }, undefined, { text: "2" }]);
      const ops = commands.slice(before).map((c) => c.info.operation);
      assert.deepEqual(ops, ["set_many", "get_many"]);
      assert.deepEqual(await cache.getMany([], Note), []);
    });

    it("delete counts what existed; exists tells", async () => {
      await cache.set(key("d1"), Note, { text: "1" }, { ttl: 60_000 });
      assert.equal(await cache.exists(key("d1")), true);
      assert.equal(await cache.delete([key("d1"), key("absent")]), 1);
      assert.equal(await cache.exists(key("d1")), false);
      assert.equal(await cache.delete(key("d1")), 0);
    });

    it("keys escape their parts: no two part lists collide", async () => {
      const a = cache.key("ct", run, "b:c");
      const b = cache.key("ct", run, "b", "c");
      assert.notEqual(a, b);
      await cache.set(a, Note, { text: "a" }, { ttl: 60_000 });
      await cache.set(b, Note, { text: "b" }, { ttl: 60_000 });
      assert.deepEqual(await cache.get(a, Note), { text: "a" });
      assert.deepEqual(await cache.get(b, Note), { text: "b" });
      assert.match(cache.key("asset", "BTC"), /^cqi-contract:asset:v1:BTC$/);
    });

    it("bad keys and TTLs are refused, naming what was wrong", async () => {
      await rejectsWith(cache.get("", Note), "invalid_input", /key/);
      await rejectsWith(
        cache.get("k".repeat(5_000), Note),
        "invalid_input",
        /5000 characters/,
      );
      await rejectsWith(
        cache.get(1 as unknown as string, Note),
        "invalid_input",
      );
      for (const ttl of [0, -1, NaN, 2 ** 48, "1" as unknown as number]) {
        await assert.rejects(
          cache.set(key("bad"), Note, { text: "" }, { ttl }),
          TypeError,
        );
      }
      assert.equal(await cache.exists(key("bad")), false);
    });

    it("a value that does not decode as the schema is invalid_input naming the type", async () => {
      await cache.set(
        key("garbage"),
        bytes,
        new Uint8Array([0xff, 0xff, 0xff]),
        {
          ttl: 60_000,
        },
      );
      await rejectsWith(
        cache.get(key("garbage"), AssetSchema),
        "invalid_input",
        /cqc\.entities\.v1\.Asset/,
      );
      await rejectsWith(
        cache.get(key("garbage"), Note),
        "invalid_input",
        /note/,
      );
    });

    it("a value the codec cannot encode is not stored", async () => {
      const values: [Parameters<Cache["set"]>[1], unknown][] = [
        [AssetSchema, { $typeName: "cqc.events.v1.Position" }],
        [Note, { text: 1n }],
      ];
      for (const [schema, value] of values) {
        await assert.rejects(
          cache.set(key("refused"), schema, value as never, { ttl: 60_000 }),
          (error) => kindOf(error) === "invalid_input",
        );
      }
      assert.equal(await cache.exists(key("refused")), false);
    });

    it("an aborted signal rejects canceled", async () => {
      const controller = new AbortController();
      controller.abort();
      await rejectsWith(
        cache.get(key("asset"), AssetSchema, { signal: controller.signal }),
        "canceled",
      );
    });

    it("hooks see commands without keys or values, and hits and misses", async () => {
      events.length = 0;
      const before = commands.length;
      await cache.set(key("hooked"), Note, { text: "secret-value" }, {
        ttl: 60_000,
      });
      await cache.find(key("hooked"), Note);
      await cache.find(key("absent"), Note);
      const seen = commands.slice(before).map((c) => c.info);
      assert.ok(seen.length >= 2);
      for (const info of seen) {
        assert.equal(info.namespace, "ct");
        assert.ok(!JSON.stringify(info).includes("secret-value"));
        assert.ok(!JSON.stringify(info).includes(run));
      }
      assert.ok(events.some((e) => e.type === "hit" && e.namespace === "ct"));
      assert.ok(events.some((e) => e.type === "miss" && e.namespace === "ct"));
    });

    describe("getOrLoad", () => {
      it("1,000 concurrent misses run the loader once", async () => {
        let loads = 0;
        let release!: () => void;
        const gate = new Promise<void>((resolve) => release = resolve);
        const calls = Array.from(
          { length: 1_000 },
          () =>
            cache.getOrLoad(key("stampede"), AssetSchema, async () => {
              loads++;
              await gate;
              return asset;
            }, { ttl: 60_000 }),
        );
        release();
        const values = await Promise.all(calls);
        assert.equal(loads, 1);
        for (const value of values) assert.deepEqual(value, asset);
        assert.deepEqual(
          await cache.getOrLoad(key("stampede"), AssetSchema, () => {
            throw new Error("loaded twice");
          }, { ttl: 60_000 }),
          asset,
        );
      });

      it("loader errors are not cached, and reach every waiter", async () => {
        let loads = 0;
        const failing = () =>
          cache.getOrLoad(key("failing"), Note, () => {
            loads++;
            throw temporary("upstream down");
          }, { ttl: 60_000 });
        const results = await Promise.allSettled([failing(), failing()]);
        for (const r of results) {
          assert.equal(r.status, "rejected");
          assert.equal(kindOf(r.reason), "temporary");
        }
        await assert.rejects(failing());
        assert.equal(loads, 2);
      });

      it("negativeTtl remembers not_found, and only not_found", async () => {
        let loads = 0;
        const missing = () =>
          cache.getOrLoad(key("neg"), Note, () => {
            loads++;
            throw notFound("note", "neg");
          }, { ttl: 60_000, negativeTtl: 1_000 });
        await rejectsWith(missing(), "not_found", /note "neg" not found/);
        await rejectsWith(missing(), "not_found", /note "neg" not found/);
        assert.equal(loads, 1);
        assert.equal(await cache.find(key("neg"), Note), undefined);
        clock.advance(1_001);
        await rejectsWith(missing(), "not_found");
        assert.equal(loads, 2);
      });

      it("grace: a stale value is served when the loader fails", async () => {
        await cache.getOrLoad(key("grace"), Note, () => ({ text: "old" }), {
          ttl: 1_000,
          grace: 60_000,
        });
        clock.advance(1_500);
        assert.equal(await cache.find(key("grace"), Note), undefined);
        events.length = 0;
        const stale = await cache.getOrLoad(key("grace"), Note, () => {
          throw temporary("upstream down");
        }, { ttl: 1_000, grace: 60_000 });
        assert.deepEqual(stale, { text: "old" });
        assert.ok(events.some((e) => e.type === "stale"));
        const fresh = await cache.getOrLoad(key("grace"), Note, () => ({
          text: "new",
        }), { ttl: 1_000, grace: 60_000 });
        assert.deepEqual(fresh, { text: "new" });
      });

      it("grace: a hit near expiry refreshes in the background", async () => {
        const options = { ttl: 10_000, grace: 60_000 };
        await cache.getOrLoad(
          key("ahead"),
          Note,
          () => ({ text: "v1" }),
          options,
        );
        clock.advance(9_500);
        let stored!: () => void;
        const refreshed = new Promise<void>((resolve) => stored = resolve);
        let loads = 0;
        const value = await cache.getOrLoad(key("ahead"), Note, () => {
          loads++;
          setTimeout(stored, 0);
          return { text: "v2" };
        }, options);
        assert.deepEqual(value, { text: "v1" });
        await refreshed;
        let now: unknown;
        for (let i = 0; i < 100; i++) {
          now = await cache.find(key("ahead"), Note);
          if ((now as { text: string })?.text === "v2") break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.deepEqual(now, { text: "v2" });
        assert.equal(loads, 1);
      });

      it("an entry that does not decode is loaded anew", async () => {
        await cache.set(key("schema-changed"), bytes, new Uint8Array([0xff]), {
          ttl: 60_000,
        });
        const value = await cache.getOrLoad(
          key("schema-changed"),
          AssetSchema,
          () => asset,
          { ttl: 60_000 },
        );
        assert.deepEqual(value, asset);
        assert.deepEqual(
          await cache.get(key("schema-changed"), AssetSchema),
          asset,
        );
      });

      it("refuses bad options before loading", async () => {
        let loads = 0;
        const loader = () => (loads++, { text: "" });
        for (
          const options of [
            undefined,
            {},
            { ttl: 0 },
            { ttl: 1_000, grace: -1 },
            { ttl: 1_000, negativeTtl: NaN },
          ]
        ) {
          await assert.rejects(
            cache.getOrLoad(key("opts"), Note, loader, options as never),
            TypeError,
          );
        }
        assert.equal(loads, 0);
      });
    });
  });

  describe(`cache contract: ${name}, closing`, () => {
    it("close waits for a running load, then calls reject temporary", async () => {
      const cache = open({});
      const key = `cqi-contract:close:${crypto.randomUUID()}`;
      let finish!: () => void;
      let started!: () => void;
      const loaderRuns = new Promise<void>((resolve) => started = resolve);
      const loading = cache.getOrLoad(key, Note, async () => {
        started();
        await new Promise<void>((resolve) => finish = resolve);
        return { text: "done" };
      }, { ttl: 60_000 });
      await loaderRuns;
      const closed = cache.close();
      finish();
      assert.deepEqual(await loading, { text: "done" });
      await closed;
      await cache.close();
      await rejectsWith(cache.get(key, Note), "temporary", /closed/);
    });
  });
}
