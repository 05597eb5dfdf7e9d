import type { Queryable } from "@cqi/database";

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
