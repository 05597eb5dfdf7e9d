/** A stored position. */
export interface Position {
  assetId: string;
  quantity: number;
}

/** Where positions live; the memory store until the database module exists. */
export interface PositionStore {
  get(id: string): Promise<Position | undefined>;
  put(id: string, position: Position): Promise<void>;
}

/** A `PositionStore` in a `Map`. */
export function memoryStore(): PositionStore {
  const positions = new Map<string, Position>();
  return {
    get: (id) => Promise.resolve(positions.get(id)),
    put: (id, position) => {
      positions.set(id, { ...position });
      return Promise.resolve();
    },
  };
}
