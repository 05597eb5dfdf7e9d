import * as v from "valibot";
import type { Cache } from "@cqi/cache";
import { json } from "@cqi/codec";
import type { Database, Queryable } from "@cqi/database";
import { invalidInput, isNotFound, notFound } from "@cqi/errors";

/** A stored position. */
export interface Position {
  assetId: string;
  quantity: number;
}

/** The longest position id, in UTF-16 code units. */
export const MAX_ID_LENGTH = 256;

/**
 * Refuses an id no position can have (empty, or over
 * {@linkcode MAX_ID_LENGTH}) with `invalid_input`, before any read or write.
 */
export function checkId(id: string): void {
  if (id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw invalidInput(`position id must be 1 to ${MAX_ID_LENGTH} characters`);
  }
}

/** Where positions live. */
export interface PositionStore {
  get(id: string): Promise<Position | undefined>;
  put(id: string, position: Position): Promise<void>;
}

/** Options of {@linkcode databaseStore}. */
export interface DatabaseStoreOptions {
  /**
   * Writes the put's event in its transaction, such as the outbox's
   * `recordChange`.
   */
  record?: (tx: Queryable, id: string, position: Position) => Promise<unknown>;
  /** Called once a put committed, such as the outbox relay's `wake`. */
  onCommit?: () => void;
}

/**
 * Positions in the `positions` table (`migrations/0001_positions.sql`), on
 * PGlite or PostgreSQL alike; a put and its event (`record`) commit together.
 */
export function databaseStore(
  db: Database,
  { record, onCommit }: DatabaseStoreOptions = {},
): PositionStore {
  return {
    get: async (id) => {
      const rows = await db.query<{ asset_id: string; quantity: string }>(
        "select asset_id, quantity from positions where id = $1",
        [id],
      );
      if (rows.length === 0) return undefined;
      return { assetId: rows[0].asset_id, quantity: Number(rows[0].quantity) };
    },
    put: async (id, position) => {
      await db.withTransaction(async (tx) => {
        await tx.exec(
          `insert into positions (id, asset_id, quantity) values ($1, $2, $3)
           on conflict (id) do update
             set asset_id = excluded.asset_id, quantity = excluded.quantity,
                 updated_at = now()`,
          [id, position.assetId, position.quantity],
        );
        await record?.(tx, id, position);
      });
      onCommit?.();
    },
  };
}

const PositionValue = json(
  v.object({ assetId: v.string(), quantity: v.number() }),
  { name: "position" },
);

/** The cache key of a position. */
export const positionKey = (cache: Cache, id: string): string =>
  cache.key("position", id);

/**
 * `store` behind a cache: reads are cache-aside (one load per id however
 * many ask at once; for five minutes past its ttl a position is served when
 * the database fails; unknown ids are remembered for five seconds), and a
 * put drops the cached position — when the cache cannot be reached, the put
 * still succeeds (the stored position is what counts) and the event
 * subscriber drops the entry later, else its ttl ends it.
 */
export function cachedStore(
  store: PositionStore,
  cache: Cache,
  onCacheError: (error: unknown) => void = () => {},
): PositionStore {
  const options = { ttl: 30_000, grace: 300_000, negativeTtl: 5_000 };
  return {
    get: (id) =>
      cache.getOrLoad(positionKey(cache, id), PositionValue, async () => {
        const position = await store.get(id);
        if (position === undefined) throw notFound("position", id);
        return position;
      }, options).catch((error) => {
        if (isNotFound(error)) return undefined;
        throw error;
      }),
    put: async (id, position) => {
      await store.put(id, position);
      // the write is done: nothing after it may fail the put
      try {
        await cache.delete(positionKey(cache, id));
      } catch (error) {
        onCacheError(error);
      }
    },
  };
}
