import { DatabaseError } from "./error.ts";
import type { Database, Transaction } from "./types.ts";

/**
 * One schema change: a version (applied in ascending order), a name, and the
 * SQL (several statements allowed, no parameters).
 *
 * @example Usage
 * ```ts
 * import type { Migration } from "@cqi/database";
 *
 * const first: Migration = {
 *   version: 1,
 *   name: "positions",
 *   sql: "create table positions (id text primary key, qty numeric not null)",
 * };
 * ```
 */
export interface Migration {
  /** Positive integer; each version is applied once, lowest first. */
  version: number;
  /** What it does, for the record and the log. */
  name: string;
  /** The statements. */
  sql: string;
}

/**
 * Options of {@linkcode migrate}.
 *
 * @example Usage
 * ```ts
 * import type { MigrateOptions } from "@cqi/database";
 *
 * const options: MigrateOptions = { table: "schema_migrations", timeout: 60_000 };
 * ```
 */
export interface MigrateOptions {
  /** Table recording applied versions. Default `cqi_migrations`. */
  table?: string;
  /** Milliseconds for each migration's transaction. Default 5 min. */
  timeout?: number;
  /** Aborting it stops before the next migration (the running one rolls back). */
  signal?: AbortSignal;
}

// The advisory lock that serialises migrators of one database (any value
// unlikely to be someone else's: "cqi-migrate" as a 32-bit number).
const LOCK_KEY = 0x63716d67;
const FILE = /^(\d+)[_-](.+)\.sql$/;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Applies migrations not yet applied, in version order, each in its own
 * transaction together with its record in the migrations table; running it
 * again applies nothing. Concurrent migrators (several replicas starting at
 * once) are serialised by a transaction-level advisory lock, and each
 * re-reads what is applied after taking it. A migration that fails rolls
 * back and stops the run with its error. Returns the versions it applied.
 *
 * `source` is a list of migrations or a directory of `<version>_<name>.sql`
 * files (`0001_positions.sql`); in a directory, a file not named so is
 * refused, as are two files with one version.
 *
 * @example Usage
 * ```ts
 * import { createDatabase, migrate } from "@cqi/database";
 *
 * await using db = createDatabase();
 * const migrations = [
 *   { version: 1, name: "positions", sql: "create table positions (id text primary key)" },
 *   { version: 2, name: "quantity", sql: "alter table positions add column qty numeric" },
 * ];
 * console.log(await migrate(db, migrations)); // [ 1, 2 ]
 * console.log(await migrate(db, migrations)); // []
 * ```
 *
 * @param db The database.
 * @param source Migrations, or the path of a directory of `.sql` files.
 * @param options Table, per-migration timeout and signal.
 * @returns The versions applied by this call, in order.
 */
export async function migrate(
  db: Database,
  source: readonly Migration[] | string | URL,
  options: MigrateOptions = {},
): Promise<number[]> {
  const table = options.table ?? "cqi_migrations";
  if (!IDENTIFIER.test(table)) {
    throw new TypeError(
      `migrate: table must be a lower-case SQL identifier, got ${
        JSON.stringify(table)
      }`,
    );
  }
  const quoted = `"${table}"`; // a lower-case identifier: reserved words too
  const migrations = typeof source === "string" || source instanceof URL
    ? await readDirectory(source)
    : checkList(source);
  const timeout = options.timeout ?? 300_000;
  // The table is made under the lock too: replicas starting together on a
  // fresh database would otherwise race on CREATE TABLE IF NOT EXISTS.
  await db.withTransaction(async (tx) => {
    await tx.exec("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY]);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS ${quoted} (
        version bigint PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
  }, { timeout, signal: options.signal, retries: 0 });
  const applied: number[] = [];
  for (const migration of migrations) {
    options.signal?.throwIfAborted();
    const done = await db.withTransaction(async (tx) => {
      await tx.exec("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY]);
      const found = await tx.query(
        `SELECT 1 FROM ${quoted} WHERE version = $1`,
        [migration.version],
      );
      if (found.length > 0) return false;
      await runScript(tx, migration);
      await tx.exec(
        `INSERT INTO ${quoted} (version, name) VALUES ($1, $2)`,
        [migration.version, migration.name],
      );
      return true;
    }, { timeout, signal: options.signal, retries: 0 });
    if (done) applied.push(migration.version);
  }
  return applied;
}

async function runScript(tx: Transaction, migration: Migration) {
  try {
    await tx.exec(migration.sql);
  } catch (error) {
    if (!(error instanceof DatabaseError)) throw error;
    throw new DatabaseError(
      error.kind,
      error.message,
      error,
      new Error(
        `migration ${migration.version} (${migration.name}) failed`,
        { cause: error.cause },
      ),
    );
  }
}

function checkList(list: readonly Migration[]): Migration[] {
  if (!Array.isArray(list)) {
    throw new TypeError("migrate: source must be migrations or a directory");
  }
  const seen = new Set<number>();
  for (const m of list) {
    if (!Number.isSafeInteger(m?.version) || m.version < 1) {
      throw new TypeError(
        `migrate: version must be a positive integer, got ${
          JSON.stringify(m?.version)
        }`,
      );
    }
    if (typeof m.name !== "string" || typeof m.sql !== "string") {
      throw new TypeError(
        `migrate: migration ${m.version} needs a name and sql strings`,
      );
    }
    if (seen.has(m.version)) {
      throw new TypeError(`migrate: version ${m.version} appears twice`);
    }
    seen.add(m.version);
  }
  return [...list].sort((a, b) => a.version - b.version);
}

async function readDirectory(dir: string | URL): Promise<Migration[]> {
  const { readdir, readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const path = dir instanceof URL ? fileURLToPath(dir) : dir;
  const list: Migration[] = [];
  for (const file of (await readdir(path)).sort()) {
    if (!file.endsWith(".sql")) continue;
    const match = FILE.exec(file);
    if (match === null) {
      throw new TypeError(
        `migrate: ${
          JSON.stringify(file)
        } is not named <version>_<name>.sql (such as 0001_positions.sql)`,
      );
    }
    list.push({
      version: Number(match[1]),
      name: match[2],
      sql: await readFile(join(path, file), "utf8"),
    });
  }
  return checkList(list);
}
