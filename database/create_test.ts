import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Secret } from "@cqi/config";
import { createDatabase } from "./mod.ts";

const refuse = (source: string, pattern: RegExp) =>
  assert.throws(() => createDatabase(source), (e) => {
    assert.ok(e instanceof TypeError, String(e));
    assert.match(e.message, pattern);
    return true;
  });

describe("createDatabase", () => {
  it("chooses the backend by URL", { timeout: 60_000 }, async () => {
    const memory = createDatabase("memory://");
    assert.equal(memory.backend, "pglite");
    const server = createDatabase(
      "postgres://u:p@db.internal:6543/app?sslmode=disable",
    );
    assert.equal(server.backend, "postgres");
    await server.close(); // never connected
    await memory.close();
  });

  it("refuses what it cannot use, naming it", () => {
    refuse("mysql://db/app", /unsupported scheme "mysql:"/);
    refuse("not a url", /does not parse/);
    refuse("postgres://db", /needs a host and a database/);
    refuse(
      "postgres://db/app?sslmode=sometimes",
      /sslmode must be one of disable, allow/,
    );
    refuse(
      "postgres://db/app?options=-c%20x",
      /a URL parameter is not supported \(supported: sslmode, application_name/,
    );
    refuse("pglite://data", /names a host/);
    refuse("pglite://u:p@h/x", /takes no user, password or parameters/);
    refuse("pglite:///x?mode=1", /takes no user, password or parameters/);
    refuse("memory:///x", /memory:\/\/ takes no path/);
    refuse(
      "postgres://u:p%zz@db/app",
      /URL's password has malformed percent-encoding/,
    );
    refuse(
      "postgres://db/%",
      /URL's database name has malformed percent-encoding/,
    );
    assert.throws(
      () => createDatabase("postgres://db/app", { maxConnections: 0 }),
      RangeError,
    );
    assert.throws(
      () =>
        createDatabase("postgres://db/app", {
          maxConnections: 2,
          minConnections: 3,
        }),
      /minConnections must be an integer from 0 to maxConnections \(2\)/,
    );
    assert.throws(
      () => createDatabase("postgres://db/app", { queryTimeout: -1 }),
      RangeError,
    );
    assert.throws(
      () => createDatabase(undefined, { onQuery: 5 as never }),
      /onQuery must be a function/,
    );
    assert.throws(
      () => createDatabase({ host: "", database: "app" } as never),
      /config.host must be set/,
    );
  });

  it("takes a config section, its secret password revealed only to the driver", async () => {
    const db = createDatabase({
      host: "127.0.0.1",
      port: 1,
      database: "app",
      user: "svc",
      password: new Secret("hunter2"),
      maxConnections: 3,
      minConnections: 0,
      connectionTimeout: 1_000,
      queryTimeout: 2_000,
      idleTimeout: 60_000,
      maxLifetime: 600_000,
      sslMode: "disable",
    });
    assert.equal(db.stats().max, 3);
    const error = await db.query("select 1").catch((e) => e);
    assert.equal(error.kind, "temporary");
    assert.ok(!JSON.stringify(error).includes("hunter2"));
    assert.ok(!String(error.cause).includes("hunter2"));
    await db.close();
  });

  it("for any malformed URL: a TypeError that never repeats the password", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("postgres", "pglite", "memory", "mysql", "http", ""),
        fc.string(),
        fc.string(),
        fc.string(),
        (scheme, host, path, query) => {
          const password = "Pw-9f3e1c";
          const text = `${scheme}://u:${password}@${host}/${path}?${query}`;
          let db;
          try {
            db = createDatabase(text);
          } catch (error) {
            assert.ok(
              error instanceof TypeError || error instanceof RangeError,
              String(error),
            );
            assert.ok(
              !(error as Error).message.includes(password),
              (error as Error).message,
            );
            return;
          }
          void db.close();
        },
      ),
      { numRuns: 300 },
    );
  });
});
