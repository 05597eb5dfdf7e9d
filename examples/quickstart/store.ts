import * as v from "valibot";
import type { Cache } from "@cqi/cache";
import { json } from "@cqi/codec";
import type { Queryable } from "@cqi/database";
import { isNotFound, notFound } from "@cqi/errors";

/** A stored position. */
export interface Position {
  assetId: string;
  quantity: number;
}

/** Where positions live. */
export interface PositionStore {
  get(id: string): Promise<Position | undefined>;
  put(id: string, position: Position): Promise<void>;
}

/**
 * Positions in the `positions` table (`migrations/0001_positions.sql`), on
 * PGlite or PostgreSQL alike.
 */
export function databaseStore(db: Queryable): PositionStore {
  return {
    get: async (id) => {
      const rows = await db.query<{ asset_id: string; quantity: string }>(
        "select asset_id, quantity from positions where id = $1",
        [id],
      );
      if (rows.length === 0) return undefined;
      return { assetId: rows[0].asset_id, quantity: Number(rows[0].quantity) };
    },
    put: async (id, { assetId, quantity }) => {
      await db.exec(
        `insert into positions (id, asset_id, quantity) values ($1, $2, $3)
         on conflict (id) do update
           set asset_id = excluded.asset_id, quantity = excluded.quantity,
               updated_at = now()`,
        [id, assetId, quantity],
      );
    },
  };
}

const PositionValue = json(
  v.object({ assetId: v.string(), quantity: v.number() }),
  { name: "position" },
);

/**
 * `store` behind a cache: reads are cache-aside (one load per id however
 * many ask at once; for five minutes past its ttl a position is served when
 * the database fails; unknown ids are remembered for five seconds), and a
 * put drops the cached position.
 */
export function cachedStore(store: PositionStore, cache: Cache): PositionStore {
  const options = { ttl: 30_000, grace: 300_000, negativeTtl: 5_000 };
  return {
    get: (id) =>
      cache.getOrLoad(cache.key("position", id), PositionValue, async () => {
        const position = await store.get(id);
        if (position === undefined) throw notFound("position", id);
        return position;
      }, options).catch((error) => {
        if (isNotFound(error)) return undefined;
        throw error;
      }),
    put: async (id, position) => {
      await store.put(id, position);
      await cache.delete(cache.key("position", id));
    },
  };
}
