import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CqiError, httpStatus, isInvalidInput, kindOf } from "@cqi/errors";
import {
  configError,
  formatProblem,
  formatReport,
  formatSource,
  isConfigError,
} from "./error.ts";

describe("ConfigError", () => {
  const problems = [
    { path: "database.port", message: "expected a port number 1-65535, got 0" },
    {
      path: "database.port",
      message: "again",
      source: { kind: "env" as const, env: "CQI_DATABASE_PORT" },
    },
    {
      path: "",
      message: "malformed YAML: x",
      source: { kind: "file" as const, file: "c.yaml", line: 1, column: 2 },
    },
  ];
  const warnings = [{ path: "", message: "unknown environment key (ignored)" }];
  const error = configError(problems, warnings);

  it("is an invalid_input CqiError", () => {
    assert.ok(error instanceof CqiError);
    assert.equal(error.kind, "invalid_input");
    assert.equal(error.name, "ConfigError");
    assert.ok(isInvalidInput(error));
    assert.equal(kindOf(error), "invalid_input");
    assert.equal(httpStatus(error), 400);
    assert.ok(isConfigError(error));
  });

  it("tells configuration errors from others", () => {
    assert.equal(isConfigError(new Error("x")), false);
    assert.equal(isConfigError(new CqiError("invalid_input", "x")), false);
    assert.equal(isConfigError(undefined), false);
  });

  it("keeps problems and warnings, and maps fields by path", () => {
    assert.deepEqual(error.problems, problems);
    assert.deepEqual(error.warnings, warnings);
    assert.deepEqual(error.fields, {
      "database.port": "expected a port number 1-65535, got 0; again",
      "c.yaml": "malformed YAML: x",
    });
  });

  it("has the whole report as its message", () => {
    assert.equal(
      error.message,
      [
        "invalid configuration (3 problems):",
        "  - database.port: expected a port number 1-65535, got 0",
        "  - database.port: again [env CQI_DATABASE_PORT]",
        "  - malformed YAML: x [c.yaml:1:2]",
        "warnings:",
        "  - unknown environment key (ignored)",
      ].join("\n"),
    );
    assert.equal(
      formatReport([problems[0]], []),
      "invalid configuration (1 problem):\n  - database.port: expected a port number 1-65535, got 0",
    );
  });

  it("formats every kind of source", () => {
    assert.equal(formatSource({ kind: "default" }), "default");
    assert.equal(formatSource({ kind: "env", env: "CQI_X" }), "env CQI_X");
    assert.equal(
      formatSource({ kind: "env", env: "CQI_X_FILE", file: "/run/secrets/x" }),
      "env CQI_X_FILE (file /run/secrets/x)",
    );
    assert.equal(
      formatSource({ kind: "dotenv", env: "CQI_X", file: ".env", line: 3 }),
      ".env:3 (CQI_X)",
    );
    assert.equal(
      formatSource({
        kind: "file",
        file: "c.yaml",
        line: 4,
        column: 9,
        env: "PW",
      }),
      "c.yaml:4:9 (from ${PW})",
    );
    assert.equal(
      formatSource({
        kind: "file",
        file: "c.yaml",
        line: 1,
        column: 1,
        env: "A, B",
      }),
      "c.yaml:1:1 (from ${A}, ${B})",
    );
    assert.equal(
      formatProblem({
        path: "a",
        message: "m",
        source: { kind: "file", file: "c.yaml" },
      }),
      "a: m [c.yaml]",
    );
  });
});
