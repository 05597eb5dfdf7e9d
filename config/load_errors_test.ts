import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { inspect } from "node:util";
import { isInvalidInput } from "@cqi/errors";
import * as v from "valibot";
import {
  type ConfigError,
  type ConfigProblem,
  cqiSections,
  isConfigError,
  loadConfig,
  type LoadOptions,
  mustLoad,
} from "./mod.ts";
import { tempDir } from "./testdata/temp.ts";

async function failure(options: LoadOptions): Promise<ConfigError> {
  const error = await loadConfig({ envFile: false, env: {}, ...options }).then(
    () => assert.fail("expected a ConfigError"),
    (e) => e,
  );
  assert.ok(isConfigError(error), String(error));
  return error;
}

const rows = (problems: readonly ConfigProblem[]) =>
  problems.map((p) => `${p.path}: ${p.message}`);

describe("reporting every problem at once", () => {
  it("lists each bad value with its path, source and expectation", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      [
        "database:",
        "  host: db",
        "  port: 99999",
        "  ssl_mode: sometimes",
        "cache:",
        "  port: 6379",
        "tracing:",
        "  sample_rate: 2",
        "",
      ].join("\n"),
    );
    const error = await failure({
      file,
      env: { CQI_SERVER_PORT: "http", CQI_LOG_LEVEL: "loud" },
    });
    assert.ok(isInvalidInput(error));
    assert.equal(error.kind, "invalid_input");
    assert.deepEqual(rows(error.problems), [
      "service: required; set CQI_SERVICE_NAME or service.name in the config file",
      'server.port: expected a number, got "http"',
      'log.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", got "loud"',
      "tracing.sampleRate: expected a number from 0 to 1, got 2",
      "database.port: expected a port number 1-65535, got 99999",
      "database.database: required; set CQI_DATABASE_DATABASE or database.database in the config file",
      'database.sslMode: expected one of "disable", "allow", "prefer", "require", "verify-ca", "verify-full", got "sometimes"',
      "cache.host: required; set CQI_CACHE_HOST or cache.host in the config file",
    ]);
    const sources = Object.fromEntries(
      error.problems.map((p) => [p.path, p.source]),
    );
    assert.deepEqual(sources["server.port"], {
      kind: "env",
      env: "CQI_SERVER_PORT",
    });
    assert.deepEqual(sources["database.port"], {
      kind: "file",
      file,
      line: 3,
      column: 9,
    });
    // A missing field points at its section.
    assert.deepEqual(sources["database.database"], {
      kind: "file",
      file,
      line: 1,
      column: 1,
    });
    assert.equal(sources["service"], undefined);
    assert.match(error.message, /^invalid configuration \(8 problems\):\n/);
    assert.ok(
      error.message.includes(
        `database.port: expected a port number 1-65535, got 99999 [${file}:3:9]`,
      ),
    );
    assert.equal(
      error.fields?.["server.port"],
      'expected a number, got "http"',
    );
  });

  it("reports the problem inside an API key record precisely", async () => {
    const error = await failure({
      env: {
        CQI_SERVICE_NAME: "svc",
        CQI_AUTH_API_KEYS: '[{"id":"a","key":"k","service_id":{"x":1}}]',
      },
    });
    assert.deepEqual(rows(error.problems), [
      "auth.apiKeys.0.serviceId: expected a string",
    ]);
  });

  it("reports a missing field inside a list item of a service's schema", async () => {
    const schema = v.object({
      service: cqiSections.service,
      feeds: v.array(v.object({ symbol: v.string() })),
    });
    const error = await loadConfig({
      schema,
      envFile: false,
      env: { CQI_SERVICE_NAME: "svc", CQI_FEEDS: '[{"symbol":"BTC"},{}]' },
    }).catch((e) => e);
    assert.deepEqual(rows(error.problems), [
      "feeds.1.symbol: required; set it in the config file",
    ]);
  });

  it("mustLoad rethrows errors that are not configuration errors", async () => {
    const schema = v.object({
      service: v.pipe(
        cqiSections.service,
        v.transform(() => {
          throw new RangeError("bug in a transform");
        }),
      ),
    });
    await assert.rejects(
      mustLoad({ schema, envFile: false, env: { CQI_SERVICE_NAME: "svc" } }),
      RangeError,
    );
  });

  it("reports JSON that does not parse where a list is expected", async () => {
    const error = await failure({
      env: { CQI_SERVICE_NAME: "svc", CQI_AUTH_API_KEYS: "[oops" },
    });
    assert.deepEqual(
      rows(error.problems)[0],
      "auth.apiKeys: expected valid JSON",
    );
  });
});

describe("malformed and missing files", () => {
  it("names the YAML file, line and column", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "bad.yaml",
      "service:\n  name: svc\nserver:\n  port: 8080\n    host: x\n",
    );
    const error = await failure({ file, env: { CQI_SERVER_PORT: "oops" } });
    // Only the file's problems: validating what could not be read would
    // add noise (CQI_SERVER_PORT=oops is not reported).
    assert.ok(
      error.problems.every((p) => p.message.startsWith("malformed YAML: ")),
    );
    const [problem] = error.problems;
    assert.deepEqual(
      [problem.source?.file, problem.source?.line, problem.source?.column],
      [file, 4, 9],
    );
    assert.ok(error.message.includes(`[${file}:4:9]`));
  });

  it("names the JSON file, line and column", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "bad.json",
      '{\n  "service": { "name": "svc" },\n  "database": { "password": "hunter2" "x": 1 }\n}',
    );
    const error = await failure({ file });
    assert.deepEqual(error.problems, [{
      path: "",
      message: "malformed JSON: expected ',' or '}'",
      source: { kind: "file", file, line: 3, column: 39 },
    }]);
    assert.ok(!error.message.includes("hunter2"));
  });

  it("reports a config file that is missing, named by option or environment", async () => {
    const byOption = await failure({ file: "/nonexistent/c.yaml" });
    assert.deepEqual(rows(byOption.problems), [
      ": config file not read: file not found",
    ]);
    assert.deepEqual(byOption.problems[0].source, {
      kind: "file",
      file: "/nonexistent/c.yaml",
    });
    const byEnv = await failure({
      env: { CQI_CONFIG_FILE: "/nonexistent/c.yaml" },
    });
    assert.deepEqual(byEnv.problems[0].source, {
      kind: "env",
      env: "CQI_CONFIG_FILE",
      file: "/nonexistent/c.yaml",
    });
  });

  it("reports a named .env that is missing and malformed .env lines", async () => {
    await using dir = await tempDir();
    const missing = await failure({
      envFile: `${dir.path}/nope.env`,
      env: { CQI_SERVICE_NAME: "svc" },
    });
    assert.deepEqual(rows(missing.problems), [
      ": .env file not read: file not found",
    ]);
    const dotenv = await dir.write(
      ".env",
      "CQI_SERVICE_NAME=svc\nthis is wrong\n",
    );
    const malformed = await failure({ envFile: dotenv });
    assert.deepEqual(malformed.problems, [{
      path: "",
      message: "malformed .env line: expected KEY=value",
      source: { kind: "dotenv", file: dotenv, line: 2 },
    }]);
  });

  it("reports a config file that is a list", async () => {
    await using dir = await tempDir();
    const file = await dir.write("list.yaml", "- a\n");
    const error = await failure({ file });
    assert.match(error.problems[0].message, /expected a mapping of sections/);
  });
});

describe("warnings", () => {
  it("reports unknown environment keys under the prefix, with a suggestion", async () => {
    await using dir = await tempDir();
    const dotenv = await dir.write(".env", "\nCQI_CACHE_HOTS=r\n");
    const warnings: ConfigProblem[] = [];
    await loadConfig({
      envFile: dotenv,
      env: {
        CQI_SERVICE_NAME: "svc",
        CQI_DATABSE_HOST: "db",
        CQI_WHATEVER: "1",
        OTHER_PREFIX_X: "1",
        CQI_SERVICE_NAME_FILE: "",
      },
      onWarning: (w) => warnings.push(w),
    });
    assert.deepEqual(warnings, [
      {
        path: "",
        message:
          "unknown environment key (ignored); did you mean CQI_DATABASE_HOST?",
        source: { kind: "env", env: "CQI_DATABSE_HOST" },
      },
      {
        path: "",
        message: "unknown environment key (ignored)",
        source: { kind: "env", env: "CQI_WHATEVER" },
      },
      {
        path: "",
        message:
          "unknown environment key (ignored); did you mean CQI_CACHE_HOST?",
        source: {
          kind: "dotenv",
          env: "CQI_CACHE_HOTS",
          file: dotenv,
          line: 2,
        },
      },
    ]);
  });

  it("reports unknown file keys with their place", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      "service_name: svc\nserver:\n  prot: 1\nlogging:\n  level: warn\nlog:\n  level: info\nextra: 1\n",
    );
    const warnings: ConfigProblem[] = [];
    const config = await loadConfig({
      file,
      envFile: false,
      env: {},
      onWarning: (w) => warnings.push(w),
    });
    assert.equal(config.log.level, "info");
    assert.deepEqual(
      warnings.map((w) => `${w.path}: ${w.message} @${w.source?.line}`),
      [
        "logging: both logging and log are given; logging is ignored @4",
        "server.prot: unknown key in the config file (ignored); did you mean port? @3",
        "extra: unknown key in the config file (ignored) @8",
      ],
    );
  });

  it("includes warnings in the error report when loading fails", async () => {
    const error = await failure({ env: { CQI_SERVCE_NAME: "svc" } });
    assert.match(
      error.message,
      /\nwarnings:\n {2}- unknown environment key \(ignored\); did you mean CQI_SERVICE_NAME\? \[env CQI_SERVCE_NAME\]$/,
    );
  });

  it("prints warnings with console.warn by default", async () => {
    const printed: unknown[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => void printed.push(args.join(" "));
    try {
      await loadConfig({
        envFile: false,
        env: { CQI_SERVICE_NAME: "s", CQI_X: "1" },
      });
    } finally {
      console.warn = original;
    }
    assert.deepEqual(printed, [
      "config warning: unknown environment key (ignored) [env CQI_X]",
    ]);
  });
});

describe("secrets in error reports", () => {
  it("never shows a secret value, only what was expected", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      [
        "service_name: svc",
        "database:",
        "  host: db",
        "  database: app",
        "  password: [hunter2-in-a-list]",
        "auth:",
        "  api_keys:",
        "    - { id: a, key: sk-live-123, hash: abcdef }",
        "  jwt:",
        "    secret: { nested: jwt-signing-key }",
        "",
      ].join("\n"),
    );
    const error = await failure({
      file,
      env: {
        CQI_CACHE_HOST: "r",
        CQI_CACHE_PASSWORD: "",
        CQI_SERVER_PORT: "x",
      },
    });
    const everything = [
      error.message,
      JSON.stringify(error.problems),
      JSON.stringify(error.fields),
      inspect(error, { depth: 10 }),
      String(error),
    ].join("\n");
    for (const secret of ["hunter2", "sk-live-123", "jwt-signing-key"]) {
      assert.ok(
        !everything.includes(secret),
        `${secret} leaked:\n${everything}`,
      );
    }
    assert.deepEqual(rows(error.problems), [
      'server.port: expected a number, got "x"',
      "database.password: expected a string",
      "auth.apiKeys.0: expected exactly one of key and hash",
      "auth.jwt.secret: expected a string",
    ]);
  });
});

describe("hostile input", () => {
  const SECRET = "s3cr3t-Value";
  const keys = [
    "CQI_SERVICE_NAME",
    "CQI_SERVER_PORT",
    "CQI_LOG_LEVEL",
    "CQI_METRICS_ENABLED",
    "CQI_DATABASE_HOST",
    "CQI_DATABASE_DATABASE",
    "CQI_DATABASE_PASSWORD",
    "CQI_DATABASE_CONNECTION_TIMEOUT",
    "CQI_EVENT_BUS_BROKERS",
    "CQI_AUTH_API_KEYS",
    "CQI_AUTH_JWT_SECRET",
    "CQI_AUTH_JWT_ALGORITHMS",
    "CQI_UNKNOWN",
  ];
  const value = fc.oneof(
    fc.string(),
    fc.json({ maxDepth: 4 }),
    fc.constantFrom("", "0", "-1", "1e999", "yes", "[", "{}", "a,,b", "${X}"),
  );
  const secrets = new Set(["CQI_DATABASE_PASSWORD", "CQI_AUTH_JWT_SECRET"]);

  it("loads or throws one ConfigError for any environment, never showing a secret", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...keys), value),
        async (env) => {
          for (const key of secrets) {
            if (key in env) env[key] = `${SECRET}${env[key]}`;
          }
          const outcome = await loadConfig({
            envFile: false,
            env,
            onWarning: () => {},
          }).catch((error) => error);
          if (outcome instanceof Error) {
            assert.ok(isConfigError(outcome), String(outcome));
            const text = `${outcome.message}${
              JSON.stringify(outcome.problems)
            }`;
            assert.ok(!text.includes(SECRET), text);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("loads or throws one ConfigError for any config file", async () => {
    await using dir = await tempDir();
    const yaml = fc.stringMatching(/^[a-z_:\-\[\]{}&*!|>'" \n#,?$]{0,80}$/);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), yaml),
        fc.boolean(),
        async (text, json) => {
          const file = await dir.write(
            `c${n++}.${json ? "json" : "yaml"}`,
            text,
          );
          const outcome = await loadConfig({
            file,
            envFile: false,
            env: { CQI_SERVICE_NAME: "svc" },
            onWarning: () => {},
          }).catch((error) => error);
          if (outcome instanceof Error) {
            assert.ok(isConfigError(outcome), String(outcome));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
