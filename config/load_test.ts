import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { inspect } from "node:util";
import * as v from "valibot";
import {
  type ConfigProblem,
  type CqiConfig,
  cqiSections,
  isConfigError,
  loadConfig,
  type LoadOptions,
  Secret,
} from "./mod.ts";
import { SAMPLE_YAML, tempDir } from "./testdata/temp.ts";

const SECRETS = {
  CQI_DATABASE_PASSWORD: "db-pw",
  CQI_CACHE_PASSWORD: "cache-pw",
};

/** Loads with no .env unless given, collecting warnings. */
async function load<T = CqiConfig>(options: LoadOptions<T> = {}) {
  const warnings: ConfigProblem[] = [];
  const config = await loadConfig<T>({
    envFile: false,
    env: {},
    onWarning: (w) => warnings.push(w),
    ...options,
  });
  return { config, warnings };
}

/** The problems of a load that must fail. */
async function problemsOf(options: LoadOptions): Promise<ConfigProblem[]> {
  const error = await loadConfig({ envFile: false, env: {}, ...options }).then(
    () => assert.fail("expected a ConfigError"),
    (e) => e,
  );
  assert.ok(isConfigError(error), String(error));
  return [...error.problems];
}

describe("the spec's sample file", () => {
  it("is kept verbatim in testdata", async () => {
    const text = await readFile(SAMPLE_YAML, "utf8");
    assert.ok(text.startsWith('service_name: "cqpm"\ndatabase:\n'));
    assert.ok(text.includes('logging:\n  level: "${LOG_LEVEL:info}"'));
    assert.ok(text.includes("  connection_timeout: 5s\n"));
  });

  it("loads unchanged, with defaults for what it leaves out", async () => {
    const { config, warnings } = await load({
      file: SAMPLE_YAML,
      env: SECRETS,
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.service, {
      name: "cqpm",
      version: "0.0.0",
      environment: "development",
    });
    const { password: dbPassword, ...database } = config.database!;
    assert.deepEqual(database, {
      host: "localhost",
      port: 5432,
      database: "cqpm",
      user: "postgres",
      maxConnections: 25,
      minConnections: 2,
      connectionTimeout: 5_000,
      queryTimeout: 30_000,
      idleTimeout: 600_000,
      maxLifetime: 3_600_000,
      sslMode: "prefer",
    });
    assert.ok(dbPassword instanceof Secret);
    assert.equal(dbPassword.reveal(), "db-pw");
    assert.equal(config.cache?.host, "localhost");
    assert.equal(config.cache?.port, 6379);
    assert.equal(config.cache?.database, 0);
    assert.equal(config.cache?.password?.reveal(), "cache-pw");
    assert.deepEqual(config.eventBus, {
      backend: "kafka",
      brokers: ["localhost:9092"],
      consumerGroup: "cqpm",
    });
    assert.deepEqual(config.log, {
      level: "info",
      format: "json",
      output: "stdout",
    });
    assert.deepEqual(config.metrics, {
      enabled: true,
      port: 9090,
      path: "/metrics",
    });
    assert.equal(config.tracing.enabled, true);
    assert.equal(config.tracing.endpoint, "localhost:4317");
    assert.equal(config.tracing.sampleRate, 0.1);
    assert.equal(config.server.port, 8080);
    assert.equal(config.auth, undefined);
  });

  it("takes its ${VAR}s from the environment", async () => {
    const { config, warnings } = await load({
      file: SAMPLE_YAML,
      env: {
        ...SECRETS,
        CQI_DATABASE_HOST: "db.internal",
        CQI_KAFKA_BROKER: "kafka-1:9092",
        LOG_LEVEL: "debug",
        CQI_TRACING_ENDPOINT: "otel:4317",
      },
    });
    assert.equal(config.database?.host, "db.internal");
    assert.deepEqual(config.eventBus?.brokers, ["kafka-1:9092"]);
    assert.equal(config.log.level, "debug");
    assert.equal(config.tracing.endpoint, "otel:4317");
    // CQI_KAFKA_BROKER is read by the file, so it is no unknown key.
    assert.deepEqual(warnings, []);
  });

  it("names the unset passwords with their place in the file", async () => {
    const problems = await problemsOf({ file: SAMPLE_YAML });
    assert.deepEqual(problems, [
      {
        path: "database.password",
        message:
          "${CQI_DATABASE_PASSWORD} is not set and has no default (set it, or write ${VAR:default})",
        source: {
          kind: "file",
          file: SAMPLE_YAML,
          line: 7,
          column: 13,
          env: "CQI_DATABASE_PASSWORD",
        },
      },
      {
        path: "cache.password",
        message:
          "${CQI_CACHE_PASSWORD} is not set and has no default (set it, or write ${VAR:default})",
        source: {
          kind: "file",
          file: SAMPLE_YAML,
          line: 13,
          column: 13,
          env: "CQI_CACHE_PASSWORD",
        },
      },
    ]);
  });
});

describe("examples/config.yaml", () => {
  it("loads, every section filled in", async () => {
    const file = new URL("../examples/config.yaml", import.meta.url).pathname;
    const { config, warnings } = await load({
      file,
      env: { CQI_DATABASE_PASSWORD: "pw" },
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.service.name, "cqpm");
    assert.equal(config.database?.password?.reveal(), "pw");
    assert.equal(config.cache?.password, undefined); // "${CQI_CACHE_PASSWORD:}"
    assert.equal(config.auth?.apiKeys[0].id, "ops-dashboard");
    assert.equal(config.auth?.jwt?.clockTolerance, 30_000);
    assert.equal(config.eventBus?.backend, "kafka");
    assert.equal(config.retry.maxElapsed, undefined);
    assert.equal(config.metrics.enabled, true);
    assert.equal(config.server.shutdownDelay, 0);
    assert.equal(config.tracing.shutdownTimeout, 2_000);
  });
});

describe("precedence: defaults < file < .env < environment", () => {
  it("lets each source override the one below, field by field", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      "service: { name: svc }\nserver:\n  port: 1000\n  host: file-host\n  idle_timeout: 1s\n",
    );
    const dotenv = await dir.write(
      ".env",
      "CQI_SERVER_PORT=2000\nCQI_SERVER_HOST=dotenv-host\n",
    );
    const env = { CQI_SERVER_PORT: "3000" };

    const defaults = await load({ env: { CQI_SERVICE_NAME: "svc" } });
    assert.equal(defaults.config.server.port, 8080);
    const fromFile = await load({ file });
    assert.equal(fromFile.config.server.port, 1000);
    const fromDotenv = await load({ file, envFile: dotenv });
    assert.equal(fromDotenv.config.server.port, 2000);
    const all = await load({ file, envFile: dotenv, env });
    assert.deepEqual(all.config.server, {
      port: 3000, // environment
      host: "dotenv-host", // .env
      idleTimeout: 1_000, // file
      shutdownTimeout: 30_000, // default
      shutdownDelay: 0, // default
    });
  });

  it("finds the file through CQI_CONFIG_FILE, in the environment or .env", async () => {
    await using dir = await tempDir();
    const file = await dir.write("c.yaml", "service_name: from-file\n");
    const other = await dir.write("o.yaml", "service_name: from-option\n");
    const dotenv = await dir.write(".env", `CQI_CONFIG_FILE=${file}\n`);
    const viaEnv = await load({ env: { CQI_CONFIG_FILE: file } });
    assert.equal(viaEnv.config.service.name, "from-file");
    const viaDotenv = await load({ envFile: dotenv });
    assert.equal(viaDotenv.config.service.name, "from-file");
    const option = await load({ file: other, env: { CQI_CONFIG_FILE: file } });
    assert.equal(option.config.service.name, "from-option");
    const none = await problemsOf({
      file: false,
      env: { CQI_CONFIG_FILE: file },
    });
    assert.deepEqual(none.map((p) => p.path), ["service"]);
  });

  it("uses the prefix for every key", async () => {
    const { config } = await load({
      prefix: "CQPM",
      env: {
        CQPM_SERVICE_NAME: "svc",
        CQPM_SERVER_PORT: "9000",
        CQI_SERVER_PORT: "1",
      },
    });
    assert.equal(config.server.port, 9000);
  });

  it("reads keys without a prefix when the prefix is empty, and warns of none", async () => {
    const { config, warnings } = await load({
      prefix: "",
      env: { SERVICE_NAME: "svc", SERVER_PORT: "9001", PATH: "/bin" },
    });
    assert.equal(config.server.port, 9001);
    assert.deepEqual(warnings, []);
  });

  it("treats an empty variable as unset", async () => {
    const { config } = await load({
      env: { CQI_SERVICE_NAME: "svc", CQI_SERVER_PORT: "" },
    });
    assert.equal(config.server.port, 8080);
  });
});

describe("coercion of strings to the schema's types", () => {
  const base = { CQI_SERVICE_NAME: "svc" };

  it("reads numbers", async () => {
    const { config } = await load({
      env: {
        ...base,
        CQI_SERVER_PORT: "8081",
        CQI_TRACING_SAMPLE_RATE: ".5",
        CQI_RETRY_MULTIPLIER: "1.5e0",
      },
    });
    assert.equal(config.server.port, 8081);
    assert.equal(config.tracing.sampleRate, 0.5);
    assert.equal(config.retry.multiplier, 1.5);
  });

  it("reads booleans in their usual spellings", async () => {
    const cases: [string, boolean][] = [
      ["true", true],
      ["TRUE", true],
      ["yes", true],
      ["on", true],
      ["1", true],
      ["false", false],
      ["No", false],
      ["off", false],
      ["0", false],
    ];
    for (const [text, expected] of cases) {
      const { config } = await load({
        env: { ...base, CQI_METRICS_ENABLED: text },
      });
      assert.equal(config.metrics.enabled, expected, text);
    }
  });

  it("reads durations into milliseconds", async () => {
    const cases: [string, number][] = [
      ["5s", 5_000],
      ["250ms", 250],
      ["1m", 60_000],
      ["1h", 3_600_000],
      ["1m30s", 90_000],
      ["1500", 1_500],
    ];
    for (const [text, ms] of cases) {
      const { config } = await load({
        env: { ...base, CQI_SERVER_SHUTDOWN_TIMEOUT: text },
      });
      assert.equal(config.server.shutdownTimeout, ms, text);
    }
    const { config } = await load({
      env: { ...base, CQI_SERVER_SHUTDOWN_DELAY: "5s" },
    });
    assert.equal(config.server.shutdownDelay, 5_000);
  });

  it("splits lists on commas, or reads a JSON array", async () => {
    const env = {
      ...base,
      CQI_EVENT_BUS_BACKEND: "kafka",
      CQI_EVENT_BUS_BROKERS: "a:9092, b:9092,,",
    };
    const { config } = await load({ env });
    assert.deepEqual(config.eventBus?.brokers, ["a:9092", "b:9092"]);
    const json = await load({
      env: { ...env, CQI_EVENT_BUS_BROKERS: '["c:9092"]' },
    });
    assert.deepEqual(json.config.eventBus?.brokers, ["c:9092"]);
  });

  it("matches enum values in any letter case", async () => {
    const { config } = await load({
      env: { ...base, CQI_LOG_LEVEL: "DEBUG", CQI_LOG_FORMAT: "Pretty" },
    });
    assert.equal(config.log.level, "debug");
    assert.equal(config.log.format, "pretty");
  });

  it("wraps secrets", async () => {
    const { config } = await load({
      env: { ...base, CQI_CACHE_HOST: "r", CQI_CACHE_PASSWORD: "pw" },
    });
    assert.ok(config.cache?.password instanceof Secret);
    assert.equal(config.cache.password.reveal(), "pw");
  });

  it("reads API keys as key,serviceId:key or as JSON records", async () => {
    const short = await load({
      env: { ...base, CQI_AUTH_API_KEYS: "k1,billing:k2" },
    });
    assert.deepEqual(
      short.config.auth?.apiKeys.map((
        k,
      ) => [k.id, k.serviceId, k.key?.reveal()]),
      [["key-1", undefined, "k1"], ["key-2", "billing", "k2"]],
    );
    const records = await load({
      env: {
        ...base,
        CQI_AUTH_API_KEYS:
          '[{"id":"ops","key":"k3","service_id":"ops","scopes":["a","b"]}]',
      },
    });
    const [key] = records.config.auth!.apiKeys;
    assert.deepEqual([key.id, key.serviceId, key.scopes, key.key?.reveal()], [
      "ops",
      "ops",
      ["a", "b"],
      "k3",
    ]);
  });

  it("types file values by the schema, not by YAML's guesses", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      [
        "service:",
        "  name: yes", // a string field: stays "yes"
        "  version: 1.10", // stays "1.10", not 1.1
        "server:",
        '  port: "8082"', // quoted, still a port
        "  host:", // empty: the default
        '  idle_timeout: ""', // empty too
        "event_bus:",
        "  backend: memory",
        '  brokers: "a:1,b:2"', // a string where a list is expected
        "",
      ].join("\n"),
    );
    const { config } = await load({ file });
    assert.equal(config.service.name, "yes");
    assert.equal(config.service.version, "1.10");
    assert.equal(config.server.port, 8082);
    assert.equal(config.server.host, "0.0.0.0");
    assert.equal(config.server.idleTimeout, 10_000);
    assert.deepEqual(config.eventBus?.brokers, ["a:1", "b:2"]);
  });

  it("reads JSON config files", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.json",
      JSON.stringify({
        service: { name: "svc" },
        database: {
          host: "db",
          database: "app",
          max_connections: 5,
          minConnections: 1,
        },
      }),
    );
    const { config } = await load({ file });
    assert.equal(config.database?.maxConnections, 5);
    assert.equal(config.database?.minConnections, 1);
  });
});

describe("interpolation in file values", () => {
  const write = async (text: string) => {
    const dir = await tempDir();
    return { dir, file: await dir.write("c.yaml", text) };
  };

  it("uses the variable when set, else the default", async () => {
    const { dir, file } = await write(
      'service:\n  name: "${NAME:fallback}"\n  environment: "${ENV_NAME:dev}-${REGION:eu}"\n',
    );
    await using _ = dir;
    const set = await load({ file, env: { NAME: "svc", REGION: "us" } });
    assert.equal(set.config.service.name, "svc");
    assert.equal(set.config.service.environment, "dev-us");
    const unset = await load({ file, env: { NAME: "" } });
    assert.equal(unset.config.service.name, "fallback");
  });

  it("reports a variable without default that is unset", async () => {
    const { dir, file } = await write('service:\n  name: "${NAME}"\n');
    await using _ = dir;
    const problems = await problemsOf({ file });
    assert.equal(problems.length, 1);
    assert.equal(problems[0].path, "service.name");
    assert.match(
      problems[0].message,
      /^\$\{NAME\} is not set and has no default/,
    );
    assert.deepEqual(
      [problems[0].source?.line, problems[0].source?.column],
      [2, 9],
    );
  });

  it("drops that problem when the environment sets the field", async () => {
    const { dir, file } = await write('service:\n  name: "${NAME}"\n');
    await using _ = dir;
    const { config } = await load({
      file,
      env: { CQI_SERVICE_NAME: "env-name" },
    });
    assert.equal(config.service.name, "env-name");
  });

  it("reads variables from .env and from VAR_FILE", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      'service:\n  name: "${NAME}"\ndatabase:\n  host: db\n  database: app\n  password: "${DB_PW}"\n',
    );
    const dotenv = await dir.write(".env", "NAME=from-dotenv\n");
    const secret = await dir.write("pw", "s3cret\n");
    const { config } = await load({
      file,
      envFile: dotenv,
      env: { DB_PW_FILE: secret },
    });
    assert.equal(config.service.name, "from-dotenv");
    assert.equal(config.database?.password?.reveal(), "s3cret");
  });

  it("reports a VAR_FILE that cannot be read", async () => {
    const { dir, file } = await write('service:\n  name: "${NAME}"\n');
    await using _ = dir;
    const problems = await problemsOf({
      file,
      env: { NAME_FILE: `${dir.path}/nope` },
    });
    assert.deepEqual(problems.map((p) => [p.path, p.message]), [[
      "service.name",
      "cannot read NAME_FILE: file not found",
    ]]);
  });

  it("reports a malformed reference and keeps $${ literal", async () => {
    const { dir, file } = await write(
      'service:\n  name: "${NAME"\n  version: "$${X}"\n',
    );
    await using _ = dir;
    const problems = await problemsOf({ file, env: {} });
    assert.deepEqual(problems.map((p) => [p.path, p.message]), [[
      "service.name",
      "unterminated ${ (expected ${VAR} or ${VAR:default})",
    ]]);
    const ok = await load({ file, env: { CQI_SERVICE_NAME: "svc" } });
    assert.equal(ok.config.service.version, "${X}");
  });
});

describe("<KEY>_FILE secrets", () => {
  it("reads the value from the file, without its trailing newline", async () => {
    await using dir = await tempDir();
    const secret = await dir.write("db-password", "p@ss word\n");
    const { config } = await load({
      env: {
        CQI_SERVICE_NAME: "svc",
        CQI_DATABASE_HOST: "db",
        CQI_DATABASE_DATABASE: "app",
        CQI_DATABASE_PASSWORD_FILE: secret,
      },
    });
    assert.equal(config.database?.password?.reveal(), "p@ss word");
  });

  it("works from .env, and the environment still wins", async () => {
    await using dir = await tempDir();
    const secret = await dir.write("name", "from-file");
    const dotenv = await dir.write(".env", `CQI_SERVICE_NAME_FILE=${secret}\n`);
    const fromDotenv = await load({ envFile: dotenv });
    assert.equal(fromDotenv.config.service.name, "from-file");
    const overridden = await load({
      envFile: dotenv,
      env: { CQI_SERVICE_NAME: "env" },
    });
    assert.equal(overridden.config.service.name, "env");
  });

  it("reports both KEY and KEY_FILE set, and an unreadable file", async () => {
    await using dir = await tempDir();
    const secret = await dir.write("name", "x");
    const problems = await problemsOf({
      env: {
        CQI_SERVICE_NAME: "a",
        CQI_SERVICE_NAME_FILE: secret,
        CQI_DATABASE_HOST: "db",
        CQI_DATABASE_DATABASE: "app",
        CQI_DATABASE_PASSWORD_FILE: `${dir.path}/missing`,
      },
    });
    assert.deepEqual(problems.map((p) => [p.path, p.message]), [
      [
        "service.name",
        "both CQI_SERVICE_NAME and CQI_SERVICE_NAME_FILE are set; set only one",
      ],
      [
        "database.password",
        "cannot read CQI_DATABASE_PASSWORD_FILE: file not found",
      ],
    ]);
    assert.deepEqual(problems[1].source, {
      kind: "env",
      env: "CQI_DATABASE_PASSWORD_FILE",
      file: `${dir.path}/missing`,
    });
  });
});

describe("a service's own schema", () => {
  it("extends the CQI sections and types the result", async () => {
    const schema = v.object({
      ...cqiSections,
      positions: v.optional(
        v.object({
          maxOpen: v.optional(v.number(), 50),
          symbols: v.optional(v.array(v.string()), []),
        }),
        {},
      ),
    });
    const { config, warnings } = await load({
      schema,
      env: {
        CQI_SERVICE_NAME: "cqpm",
        CQI_POSITIONS_MAX_OPEN: "20",
        CQI_POSITIONS_SYMBOLS: "BTC,ETH",
      },
    });
    const maxOpen: number = config.positions.maxOpen;
    assert.equal(maxOpen, 20);
    assert.deepEqual(config.positions.symbols, ["BTC", "ETH"]);
    assert.equal(config.server.port, 8080);
    assert.deepEqual(warnings, []);
  });
});

describe("the eventBus section for NATS JetStream", () => {
  /** What every full NATS section below loads to, Secrets aside. */
  const LOADED = {
    backend: "nats",
    brokers: ["nats-1:4222", "nats-2:4222"],
    consumerGroup: "cqpm",
    username: "cqpm",
    stream: "CQC_EVENTS",
    subjects: ["cqc.events.v1.>", "cqc.audit.*"],
    maxAge: 604_800_000,
    maxBytes: 10_737_418_240,
    maxMessages: 5_000_000,
    replicas: 3,
    duplicateWindow: 120_000,
    maxDeliver: 5,
    ackWait: 30_000,
    maxAckPending: 1_000,
    backoff: [1_000, 10_000, 60_000],
  };

  /** The section without its Secrets, which it checks and reveals. */
  const revealed = (bus: CqiConfig["eventBus"]) => {
    const { password, token, ...rest } = bus!;
    assert.ok(password instanceof Secret);
    assert.ok(token instanceof Secret);
    return { rest, password: password.reveal(), token: token.reveal() };
  };

  it("loads every setting from a YAML file, snake_case keys", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      [
        "service_name: svc",
        "event_bus:",
        "  backend: nats",
        "  brokers: [nats-1:4222, nats-2:4222]",
        "  consumer_group: cqpm",
        "  username: cqpm",
        '  password: "${NATS_PASSWORD}"',
        "  token: file-token",
        "  stream: CQC_EVENTS",
        "  subjects:",
        '    - "cqc.events.v1.>"',
        '    - "cqc.audit.*"',
        "  max_age: 168h",
        "  max_bytes: 10737418240",
        "  max_messages: 5000000",
        "  replicas: 3",
        "  duplicate_window: 2m",
        "  max_deliver: 5",
        "  ack_wait: 30s",
        "  max_ack_pending: 1000",
        "  backoff: [1s, 10s, 1m]",
        "",
      ].join("\n"),
    );
    const { config, warnings } = await load({
      file,
      env: { NATS_PASSWORD: "file-pw" },
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(revealed(config.eventBus), {
      rest: LOADED,
      password: "file-pw",
      token: "file-token",
    });
  });

  it("loads every setting from a JSON file, camelCase keys too", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.json",
      JSON.stringify({
        service: { name: "svc" },
        event_bus: {
          backend: "nats",
          brokers: ["nats-1:4222", "nats-2:4222"],
          consumer_group: "cqpm",
          username: "cqpm",
          password: "json-pw",
          token: "json-token",
          stream: "CQC_EVENTS",
          subjects: ["cqc.events.v1.>", "cqc.audit.*"],
          max_age: "168h",
          maxBytes: 10_737_418_240,
          max_messages: 5_000_000,
          replicas: 3,
          duplicateWindow: "2m",
          max_deliver: 5,
          ack_wait: 30_000,
          maxAckPending: 1_000,
          backoff: ["1s", 10_000, "1m"],
        },
      }),
    );
    const { config, warnings } = await load({ file });
    assert.deepEqual(warnings, []);
    assert.deepEqual(revealed(config.eventBus), {
      rest: LOADED,
      password: "json-pw",
      token: "json-token",
    });
  });

  it("loads every setting from CQI_EVENT_BUS_* variables, lists comma-separated", async () => {
    await using dir = await tempDir();
    const token = await dir.write("nats-token", "env-token\n");
    const { config, warnings } = await load({
      env: {
        CQI_SERVICE_NAME: "svc",
        CQI_EVENT_BUS_BACKEND: "NATS",
        CQI_EVENT_BUS_BROKERS: "nats-1:4222,nats-2:4222",
        CQI_EVENT_BUS_CONSUMER_GROUP: "cqpm",
        CQI_EVENT_BUS_USERNAME: "cqpm",
        CQI_EVENT_BUS_PASSWORD: "env-pw",
        CQI_EVENT_BUS_TOKEN_FILE: token,
        CQI_EVENT_BUS_STREAM: "CQC_EVENTS",
        CQI_EVENT_BUS_SUBJECTS: "cqc.events.v1.>, cqc.audit.*",
        CQI_EVENT_BUS_MAX_AGE: "168h",
        CQI_EVENT_BUS_MAX_BYTES: "10737418240",
        CQI_EVENT_BUS_MAX_MESSAGES: "5000000",
        CQI_EVENT_BUS_REPLICAS: "3",
        CQI_EVENT_BUS_DUPLICATE_WINDOW: "2m",
        CQI_EVENT_BUS_MAX_DELIVER: "5",
        CQI_EVENT_BUS_ACK_WAIT: "30000",
        CQI_EVENT_BUS_MAX_ACK_PENDING: "1000",
        CQI_EVENT_BUS_BACKOFF: "1s,10s,1m",
      },
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(revealed(config.eventBus), {
      rest: LOADED,
      password: "env-pw",
      token: "env-token",
    });
    const json = await load({
      env: {
        CQI_SERVICE_NAME: "svc",
        CQI_EVENT_BUS_BACKEND: "nats",
        CQI_EVENT_BUS_BROKERS: "nats:4222",
        CQI_EVENT_BUS_SUBJECTS: '["a.>"]',
        CQI_EVENT_BUS_BACKOFF: '[500, "2s"]',
      },
    });
    assert.deepEqual(json.config.eventBus?.subjects, ["a.>"]);
    assert.deepEqual(json.config.eventBus?.backoff, [500, 2_000]);
  });

  it("lets the environment override the file, setting by setting", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      "service_name: svc\nevent_bus:\n  backend: nats\n  brokers: [n:4222]\n  replicas: 3\n  ack_wait: 10s\n",
    );
    const { config } = await load({
      file,
      env: { CQI_EVENT_BUS_REPLICAS: "5" },
    });
    assert.equal(config.eventBus?.replicas, 5);
    assert.equal(config.eventBus?.ackWait, 10_000);
  });

  it("leaves the NATS settings undefined when unset", async () => {
    const { config, warnings } = await load({
      env: {
        CQI_SERVICE_NAME: "svc",
        CQI_EVENT_BUS_BACKEND: "nats",
        CQI_EVENT_BUS_BROKERS: "nats:4222",
        CQI_EVENT_BUS_REPLICAS: "", // empty: unset
      },
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.eventBus, {
      backend: "nats",
      brokers: ["nats:4222"],
    });
  });

  it("reports each invalid setting with its field and variable", async () => {
    const problems = await problemsOf({
      env: {
        CQI_SERVICE_NAME: "svc",
        CQI_EVENT_BUS_BACKEND: "nats",
        CQI_EVENT_BUS_BROKERS: "nats:4222",
        CQI_EVENT_BUS_STREAM: "cqc.events",
        CQI_EVENT_BUS_SUBJECTS: "cqc.events.v1.>,cqc..audit",
        CQI_EVENT_BUS_MAX_AGE: "7d",
        CQI_EVENT_BUS_MAX_BYTES: "0",
        CQI_EVENT_BUS_MAX_MESSAGES: "lots",
        CQI_EVENT_BUS_REPLICAS: "7",
        CQI_EVENT_BUS_DUPLICATE_WINDOW: "0s",
        CQI_EVENT_BUS_MAX_ACK_PENDING: "2.5",
        CQI_EVENT_BUS_ACK_WAIT: "-1s",
        CQI_EVENT_BUS_BACKOFF: "1s,soon",
        CQI_EVENT_BUS_MAX_DELIVER: "0",
      },
    });
    const duration =
      'expected a duration such as "5s", "250ms", "1m" or milliseconds';
    assert.deepEqual(problems.map((p) => [p.path, p.message]), [
      [
        "eventBus.stream",
        'expected a stream name without whitespace, ".", "*", ">", "/" or "\\", got "cqc.events"',
      ],
      [
        "eventBus.subjects.1",
        'expected a NATS subject of non-empty tokens separated by ".", got "cqc..audit"',
      ],
      ["eventBus.maxAge", `${duration}, got "7d"`],
      ["eventBus.maxBytes", "expected a positive whole number, got 0"],
      ["eventBus.maxMessages", 'expected a number, got "lots"'],
      ["eventBus.replicas", "expected a whole number from 1 to 5, got 7"],
      ["eventBus.duplicateWindow", "expected a positive duration, got 0"],
      ["eventBus.maxDeliver", "expected a positive whole number, got 0"],
      ["eventBus.ackWait", `${duration}, got "-1s"`],
      ["eventBus.maxAckPending", "expected a positive whole number, got 2.5"],
      ["eventBus.backoff.1", `${duration}, got "soon"`],
    ]);
    assert.deepEqual(problems[5].source, {
      kind: "env",
      env: "CQI_EVENT_BUS_REPLICAS",
    });
  });

  it("reports maxDeliver not above the backoff entries, from a file", async () => {
    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      "service_name: svc\nevent_bus:\n  backend: nats\n  brokers: [n:4222]\n  max_deliver: 3\n  backoff: [1s, 5s, 30s]\n",
    );
    const problems = await problemsOf({ file });
    assert.deepEqual(problems.map((p) => [p.path, p.message]), [[
      "eventBus.maxDeliver",
      "expected more than the number of backoff entries (3), as JetStream requires",
    ]]);
    assert.equal(problems[0].source?.line, 5);
  });

  it("never prints the password or token, loaded or in an error report", async () => {
    const env = {
      CQI_SERVICE_NAME: "svc",
      CQI_EVENT_BUS_BACKEND: "nats",
      CQI_EVENT_BUS_BROKERS: "nats:4222",
      CQI_EVENT_BUS_PASSWORD: "pw-SECRET-1",
      CQI_EVENT_BUS_TOKEN: "tok-SECRET-2",
    };
    const { config } = await load({ env });
    assert.equal(config.eventBus?.password?.reveal(), "pw-SECRET-1");
    assert.equal(config.eventBus?.token?.reveal(), "tok-SECRET-2");
    const printed = [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      `${config.eventBus?.password} ${config.eventBus?.token}`,
    ].join("\n");
    assert.ok(!printed.includes("SECRET"), printed);
    assert.equal(
      JSON.stringify({
        p: config.eventBus?.password,
        t: config.eventBus?.token,
      }),
      '{"p":"[REDACTED]","t":"[REDACTED]"}',
    );

    await using dir = await tempDir();
    const file = await dir.write(
      "c.yaml",
      "event_bus:\n  password: [pw-SECRET-3]\n  token: { t: tok-SECRET-4 }\n",
    );
    const error = await loadConfig({
      file,
      envFile: false,
      env: { ...env, CQI_EVENT_BUS_PASSWORD: "", CQI_EVENT_BUS_TOKEN: "" },
    }).then(() => assert.fail("expected a ConfigError"), (e) => e);
    assert.ok(isConfigError(error));
    const report = [
      error.message,
      JSON.stringify(error.problems),
      inspect(error, { depth: 10 }),
    ].join("\n");
    assert.ok(!report.includes("SECRET"), report);
    assert.deepEqual(
      error.problems.map((p: ConfigProblem) => `${p.path}: ${p.message}`),
      [
        "eventBus.password: expected a string",
        "eventBus.token: expected a string",
      ],
    );
  });
});
