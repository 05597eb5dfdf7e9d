import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { errorResponse } from "@cqi/errors";
import { DatabaseError, toDatabaseError } from "./error.ts";

// What postgres.js and PGlite throw, reduced to the fields that matter.
function serverError(code: string, fields: Record<string, unknown> = {}) {
  return Object.assign(
    new Error(fields.message as string ?? "server said no"),
    {
      code,
      detail: "Key (id)=(SECRET-VALUE) already exists.",
      parameters: ["SECRET-VALUE"],
      params: ["SECRET-VALUE"],
      ...fields,
    },
  );
}

describe("toDatabaseError", () => {
  it("maps SQLSTATE classes to kinds", () => {
    const cases: [string, string][] = [
      ["23505", "conflict"],
      ["40001", "conflict"],
      ["40P01", "conflict"],
      ["23502", "invalid_input"],
      ["23503", "invalid_input"],
      ["22P02", "invalid_input"],
      ["08006", "temporary"],
      ["53300", "temporary"],
      ["57P01", "temporary"],
      ["57P03", "temporary"],
      ["57014", "temporary"],
      ["55P03", "temporary"],
      ["42601", "permanent"],
      ["42P01", "permanent"],
      ["25P02", "permanent"],
      ["XX000", "permanent"],
    ];
    for (const [code, kind] of cases) {
      const error = toDatabaseError(serverError(code));
      assert.equal(error.kind, kind, code);
      assert.equal(error.sqlState, code);
    }
  });

  it("maps connection failures of either driver to temporary", () => {
    for (
      const code of [
        "ECONNREFUSED",
        "ECONNRESET",
        "CONNECTION_CLOSED",
        "CONNECT_TIMEOUT",
        "CANCEL_UNANSWERED",
      ]
    ) {
      const error = toDatabaseError(
        Object.assign(new Error(`connect ${code}`), { code }),
      );
      assert.equal(error.kind, "temporary", code);
      assert.equal(error.sqlState, undefined);
    }
    const byErrno = toDatabaseError(
      Object.assign(new Error("x"), { errno: "CONNECTION_ENDED" }),
    );
    assert.equal(byErrno.kind, "temporary");
  });

  it("keeps constraint, table and column under either driver's names", () => {
    const pgjs = toDatabaseError(serverError("23505", {
      constraint_name: "accounts_pkey",
      table_name: "accounts",
    }));
    const pglite = toDatabaseError(serverError("23502", {
      constraint: "c",
      table: "t",
      column: "owner",
    }));
    assert.deepEqual([pgjs.constraint, pgjs.table], [
      "accounts_pkey",
      "accounts",
    ]);
    assert.deepEqual([pglite.constraint, pglite.table, pglite.column], [
      "c",
      "t",
      "owner",
    ]);
  });

  it("drops the server's message for data exceptions, which quote the value", () => {
    const error = toDatabaseError(
      serverError("22P02", {
        message: 'invalid input syntax for type integer: "SECRET-VALUE"',
      }),
    );
    assert.equal(
      String(error.cause),
      "Error: SQLSTATE 22P02 invalid_text_representation",
    );
  });

  it("for any error shape: a DatabaseError, no parameter value anywhere, a safe response", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.stringMatching(/^[0-9A-Z]{5}$/),
          fc.constantFrom("ECONNREFUSED", "CONNECTION_CLOSED"),
          fc.string(),
        ),
        fc.anything(),
        (code, junk) => {
          const raw = serverError(code, {
            message: "duplicate key",
            extra: junk,
          });
          const error = toDatabaseError(raw);
          assert.ok(error instanceof DatabaseError);
          const seen = JSON.stringify(error) + String(error) +
            String(error.cause) +
            JSON.stringify(error.cause);
          assert.ok(!seen.includes("SECRET-VALUE"), seen);
          assert.ok(error.cause !== raw);
          const status = errorResponse(error).status;
          assert.ok([400, 409, 500, 503].includes(status), `${status}`);
        },
      ),
    );
    for (const weird of [undefined, null, 42, "text", { code: 5 }]) {
      assert.equal(toDatabaseError(weird).kind, "permanent");
    }
  });
});
