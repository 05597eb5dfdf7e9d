// A PostgreSQL server through a postgres.js pool. postgres.js does the
// protocol, pipelining, cancellation (a cancel request it sends only for a
// query still running, and a connection it closes when the cancel goes
// unanswered), reconnects and pool counts; this file maps settings and keeps
// a transaction on its own connection.
import { raceSignal } from "@cqi/retry";
import postgres from "postgres";
import type { Driver, RunFn, Session } from "../driver.ts";

/** A server and a pool, resolved from a config section or a URL. */
export interface PostgresSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  sslMode: string;
  applicationName?: string;
  maxConnections: number;
  minConnections: number;
  /** Milliseconds; every duration here is. */
  connectionTimeout: number;
  idleTimeout: number;
  maxLifetime: number;
}

type Pool = ReturnType<typeof postgres>;

/** A postgres.js driver; it connects on the first statement. */
export function postgresDriver(settings: PostgresSettings): Driver {
  const sql: Pool = postgres({
    host: settings.host,
    port: settings.port,
    database: settings.database,
    username: settings.user,
    password: settings.password ?? "",
    ssl: sslOption(settings.sslMode),
    max: settings.maxConnections,
    min: settings.minConnections,
    connect_timeout: seconds(settings.connectionTimeout),
    idle_timeout: seconds(settings.idleTimeout),
    // Each connection lives the setting plus up to a third more, so that
    // connections opened together do not all reconnect at once.
    max_lifetime: () => seconds(settings.maxLifetime) * (1 + Math.random() / 3),
    // One statement at a time per connection: a cancel request (a timeout,
    // an aborted signal) then never lands on another caller's statement
    // pipelined behind the one it was meant for, a slow statement never
    // holds up a quick one queued behind it, and `waiting` counts every
    // call that waits for a connection.
    max_pipeline: 1,
    onnotice: false,
    // Reconnect attempts after failures: 50 ms doubling to 2 s, with
    // jitter (postgres.js's own grows to 20 s, which kept a pool away from
    // a restarted server for many seconds). Calls in between fail fast.
    backoff: (attempt: number) =>
      Math.min(0.05 * 2 ** attempt, 2) * (0.5 + Math.random() / 2),
    connection: settings.applicationName === undefined
      ? {}
      : { application_name: settings.applicationName },
  });

  let abandoned = 0; // reservations whose caller gave up, still queued
  const runOn = (target: Pool): RunFn => (text, params, ok, fail) => {
    const query = target.unsafe(text, params as never[], { prepare: true });
    query.then((rows) =>
      // A plain array, as PGlite gives: postgres.js's Result subclass
      // carries fields (statement, state) that would make the two differ.
      ok({
        rows: plain(rows),
        rowCount: rows.count ?? rows.length,
        command: rows.command,
      }), fail);
    return () => void query.cancel().catch(() => {});
  };

  return {
    backend: "postgres",
    target: {
      system: "postgresql",
      namespace: settings.database,
      serverAddress: settings.host,
      serverPort: settings.port,
    },
    run: runOn(sql),
    session: async (signal): Promise<Session> => {
      signal.throwIfAborted();
      const reserving = sql.reserve();
      const reserved = await raceSignal(reserving, signal).catch(
        (error) => {
          // postgres.js keeps the request queued: the connection it grants
          // later goes back at once, and until then the request is not
          // counted as waiting.
          abandoned++;
          reserving.then((r) => r.release(), () => {}).finally(() =>
            abandoned--
          );
          throw error;
        },
      );
      return {
        run: runOn(reserved as unknown as Pool),
        // A reserved connection that was lost rejects everything sent on it
        // (postgres.js never reconnects a reservation); one whose end is
        // unknown goes back to the pool, which rolls back a connection
        // left inside a transaction.
        release: async () => {
          await reserved.release();
        },
      };
    },
    stats: () => {
      const { connections, opening, idle, waiting } = sql.stats;
      return {
        total: connections + opening,
        idle,
        waiting: Math.max(0, waiting - abandoned),
        max: settings.maxConnections,
      };
    },
    close: () => sql.end({ timeout: 0 }),
  };
}

// A copy as a plain array (a loop: Array.from of an Array subclass costs
// 0.3 µs on Deno, the loop 15 ns).
function plain<T>(rows: ArrayLike<T>): T[] {
  const copy = new Array<T>(rows.length);
  for (let i = 0; i < rows.length; i++) copy[i] = rows[i];
  return copy;
}

function seconds(ms: number): number {
  return ms / 1000;
}

// libpq's sslmode in postgres.js's terms: `allow` tries TLS like `prefer`,
// `verify-ca` checks the chain but not the host name.
function sslOption(mode: string): postgres.Options<never>["ssl"] {
  switch (mode) {
    case "disable":
      return false;
    case "allow":
    case "prefer":
      return "prefer";
    case "require":
      return "require";
    case "verify-ca":
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    default:
      return "verify-full";
  }
}
