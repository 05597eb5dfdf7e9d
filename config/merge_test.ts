import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { readFields } from "./env.ts";
import type { ConfigProblem } from "./error.ts";
import { fieldTable } from "./fields.ts";
import { parseConfigText } from "./file.ts";
import { merge } from "./merge.ts";
import { cqiSchema } from "./mod.ts";
import { recordEnv } from "./runtime.ts";
import { type ConfigSchema, describe as shapeOf } from "./valibot_adapter.ts";

// Merges the file with no environment.
function run(schema: ConfigSchema, yaml: string) {
  const warnings: ConfigProblem[] = [];
  const { root } = parseConfigText(yaml, "c.yaml");
  const { value } = merge(shapeOf(schema), root, new Map(), [], warnings);
  return {
    tree: value,
    warnings: warnings.map((w) => `${w.path}: ${w.message}`),
  };
}

describe("file keys to schema keys", () => {
  it("maps snake_case and camelCase keys to fields", () => {
    const schema = v.object({ db: v.object({ maxConnections: v.number() }) });
    assert.deepEqual(run(schema, "db:\n  max_connections: 1\n").tree, {
      db: { maxConnections: 1 },
    });
    assert.deepEqual(run(schema, "db:\n  maxConnections: 1\n").tree, {
      db: { maxConnections: 1 },
    });
  });

  it("keeps the keys of records and maps their values", () => {
    const schema = v.object({
      feeds: v.record(v.string(), v.object({ pollInterval: v.number() })),
    });
    const { tree, warnings } = run(
      schema,
      "feeds:\n  binance_spot:\n    poll_interval: 5\n    typo: 1\n",
    );
    assert.deepEqual(tree, { feeds: { binance_spot: { pollInterval: 5 } } });
    assert.deepEqual(warnings, [
      "feeds.binance_spot.typo: unknown key in the config file (ignored)",
    ]);
  });

  it("maps items of lists of mappings", () => {
    const schema = v.object({
      keys: v.array(v.object({ serviceId: v.string() })),
    });
    assert.deepEqual(run(schema, "keys:\n  - service_id: a\n").tree, {
      keys: [{ serviceId: "a" }],
    });
  });

  it("reads service_name into service.name, merging with a service section", () => {
    assert.deepEqual(run(cqiSchema, "service_name: a\n").tree, {
      service: { name: "a" },
    });
    assert.deepEqual(
      run(cqiSchema, "service_name: a\nservice:\n  version: '1'\n").tree,
      { service: { version: "1", name: "a" } },
    );
    const both = run(cqiSchema, "service_name: a\nservice:\n  name: b\n");
    assert.deepEqual(both.tree, { service: { name: "b" } });
    assert.deepEqual(both.warnings, [
      "service_name: service.name is also given; service_name is ignored",
    ]);
  });

  it("leaves service_name and logging alone when the schema has such fields", () => {
    const schema = v.object({ serviceName: v.string(), logging: v.string() });
    assert.deepEqual(run(schema, "service_name: a\nlogging: b\n"), {
      tree: { serviceName: "a", logging: "b" },
      warnings: [],
    });
  });
});

describe("environment values over the file", () => {
  it("sets each field from its key, creating sections", async () => {
    const problems: ConfigProblem[] = [];
    const root = shapeOf(cqiSchema);
    const fields = fieldTable(root, "CQI");
    const layers = [{
      kind: "env" as const,
      reader: recordEnv({
        CQI_DATABASE_MAX_CONNECTIONS: "7",
        CQI_EVENT_BUS_BROKERS: "a,b",
      }),
    }];
    const env = await readFields(layers, fields, problems);
    const merged = merge(root, undefined, env, problems, []);
    assert.deepEqual(problems, []);
    assert.ok(fields.some((f) => f.envKey === "CQI_AUTH_JWT_JWKS_URL"));
    assert.deepEqual(merged.value, {
      database: { maxConnections: 7 },
      eventBus: { brokers: ["a", "b"] },
    });
    assert.deepEqual(merged.sources.get("eventBus"), {
      kind: "env",
      env: "CQI_EVENT_BUS_BROKERS",
    });
  });

  it("replaces the file's value, and drops its problems", () => {
    const { root: file } = parseConfigText(
      "server:\n  port: 1\n  host: h\nlog: 5\n",
      "c.yaml",
    );
    const root = shapeOf(cqiSchema);
    const fields = fieldTable(root, "CQI");
    const field = (path: string) => fields.find((f) => f.envKey === path)!;
    const env = new Map([
      [field("CQI_SERVER_PORT"), {
        value: "2",
        source: { kind: "env" as const, env: "CQI_SERVER_PORT" },
      }],
      [field("CQI_LOG_LEVEL"), {
        value: null,
        problem: "cannot read CQI_LOG_LEVEL_FILE: file not found",
        source: { kind: "env" as const, env: "CQI_LOG_LEVEL_FILE" },
      }],
    ]);
    const problems: ConfigProblem[] = [];
    const merged = merge(root, file, env, problems, []);
    assert.deepEqual(merged.value, {
      server: { host: "h", port: 2 },
      log: { level: undefined },
    });
    assert.deepEqual(problems.map((p) => p.path), ["log.level"]);
  });

  it("still warns of unknown keys in a file value it replaces", () => {
    const { root: file } = parseConfigText(
      "auth:\n  api_keys:\n    - { id: a, typo: 1 }\n",
      "c.yaml",
    );
    const root = shapeOf(cqiSchema);
    const field = fieldTable(root, "CQI").find((f) =>
      f.envKey === "CQI_AUTH_API_KEYS"
    )!;
    const source = { kind: "env" as const, env: "CQI_AUTH_API_KEYS" };
    const warnings: ConfigProblem[] = [];
    const merged = merge(
      root,
      file,
      new Map([[field, { value: "k1", source }]]),
      [],
      warnings,
    );
    assert.deepEqual(merged.value, { auth: { apiKeys: ["k1"] } });
    assert.deepEqual(warnings.map((w) => w.path), ["auth.apiKeys.0.typo"]);
    assert.deepEqual(merged.sources.get("auth.apiKeys.0"), source);
  });
});
