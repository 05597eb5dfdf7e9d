// PGlite: PostgreSQL compiled to WebAssembly, in this process, in memory or
// in a directory. It is one connection, so one lock serialises everything:
// a statement holds it while it runs, a transaction from BEGIN to its end.
import { raceSignal } from "@cqi/retry";
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import {
  type Driver,
  type DriverResult,
  EXPIRED,
  type Session,
} from "../driver.ts";
import { Lock } from "../lock.ts";

/** A PGlite driver for a data directory, or memory when `dataDir` is undefined. */
export function pgliteDriver(dataDir: string | undefined): Driver {
  const unclaim = dataDir === undefined ? () => {} : claimDir(dataDir);
  const ready = open(dataDir);
  ready.catch(() => {}); // reported by the first call (and by check)
  const lock = new Lock();

  const statement = async (
    pg: PGlite,
    text: string,
    params: readonly unknown[],
  ): Promise<DriverResult> => {
    // Without parameters, the simple protocol: a script of several
    // statements (a migration) runs, and the last one's rows are returned.
    // A running statement cannot be interrupted (it holds the event loop);
    // cancelling stops one still waiting for the lock.
    const results = params.length === 0
      ? (await pg.exec(text)).at(-1)
      : await pg.query<Record<string, unknown>>(text, params as unknown[]);
    if (results === undefined) return { rows: [], rowCount: 0 };
    return {
      rows: results.rows,
      rowCount: results.rowCount ?? results.affectedRows ?? results.rows.length,
      command: results.command,
    };
  };

  return {
    backend: "pglite",
    target: { system: "postgresql", namespace: "postgres" },
    run: (text, params, ok, fail, due) => {
      const waiting = lock.acquire();
      let cancelled = false;
      waiting.promise.then(async (release) => {
        try {
          const pg = await ready;
          // Cancelled while it waited, or due while statements ahead of it
          // held the event loop (so its timer could not fire): never run it.
          if (cancelled) throw new Error("canceled before it ran");
          if (performance.now() >= due) throw EXPIRED;
          return await statement(pg, text, params);
        } finally {
          release();
        }
      }).then(ok, fail);
      return () => {
        cancelled = true;
        waiting.cancel(new Error("canceled while waiting"));
      };
    },
    session: async (signal): Promise<Session> => {
      const waiting = lock.acquire();
      const onAbort = () => waiting.cancel(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      let release: () => void;
      try {
        release = await waiting.promise;
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
      let pg: PGlite;
      try {
        pg = await raceSignal(ready, signal);
      } catch (error) {
        release();
        throw error;
      }
      let released = false;
      return {
        run: (text, params, ok, fail) => {
          // The lock is someone else's once released: nothing more runs.
          if (released) fail(new Error("transaction's connection released"));
          else statement(pg, text, params).then(ok, fail);
          return () => {}; // a running statement cannot be interrupted
        },
        release: async (broken) => {
          if (released) return;
          released = true;
          // A transaction that could not end cleanly must not leave the one
          // connection inside it for the next caller.
          if (broken) await pg.query("ROLLBACK").catch(() => {});
          release();
        },
      };
    },
    stats: () => ({
      total: 1,
      idle: lock.held ? 0 : 1,
      waiting: lock.waiting,
      max: 1,
    }),
    close: async () => {
      const pg = await ready.catch(() => undefined);
      try {
        if (pg !== undefined && !pg.closed) await pg.close();
      } finally {
        unclaim();
      }
    },
  };
}

const INT8 = 20;

// Data directories open in this process: PGlite takes no lock on one, and
// two instances on one directory silently lose each other's writes.
const openDirs = new Set<string>();

// A fresh memory instance runs initdb (3-5 s here); after the first one,
// each starts from a copy of that first one's empty data directory (about
// 1 s). Taken before the first instance runs anything of its caller's.
let template: Promise<Blob | File | undefined> | undefined;

/** Claims `dataDir` for this process, or throws if an instance has it. */
export function claimDir(dataDir: string): () => void {
  // The real path: a symlink to an open directory is that directory.
  let key: string;
  try {
    key = realpathSync(dataDir);
  } catch {
    key = resolve(dataDir); // not there yet
  }
  if (openDirs.has(key)) {
    throw new TypeError(
      `createDatabase: pglite://${key} is already open in this process; share that database (two PGlite instances on one directory lose writes)`,
    );
  }
  openDirs.add(key);
  return () => openDirs.delete(key);
}

async function open(dataDir: string | undefined): Promise<PGlite> {
  const { PGlite } = await import("@electric-sql/pglite");
  // int8 as a string, as postgres.js gives it: a number would lose digits
  // past 2^53, and code tested on PGlite must see what production sees.
  const parsers = { [INT8]: (value: string) => value };
  if (dataDir !== undefined) return await PGlite.create({ dataDir, parsers });
  const loadDataDir = await template?.catch(() => undefined);
  if (loadDataDir !== undefined) {
    return await PGlite.create({ loadDataDir, parsers });
  }
  const pg = await PGlite.create({ parsers });
  template ??= pg.dumpDataDir("none");
  await template.catch(() => {});
  return pg;
}
