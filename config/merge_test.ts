import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import type { EnvLayer } from "./env.ts";
import type { ConfigProblem } from "./error.ts";
import { fieldTable } from "./fields.ts";
import { parseConfigText } from "./file.ts";
import { fileToSchemaKeys, mergeEnv } from "./merge.ts";
import { cqiSchema } from "./mod.ts";
import type { Raw } from "./raw.ts";
import { recordEnv } from "./runtime.ts";
import { plain } from "./testdata/plain.ts";
import { type ConfigSchema, describe as shapeOf } from "./valibot_adapter.ts";

function run(schema: ConfigSchema, yaml: string) {
  const warnings: ConfigProblem[] = [];
  const { root } = parseConfigText(yaml, "c.yaml");
  const out = fileToSchemaKeys(shapeOf(schema), root!, warnings);
  return {
    tree: plain(out),
    warnings: warnings.map((w) => `${w.path}: ${w.message}`),
  };
}

describe("file keys to schema keys", () => {
  it("maps snake_case and camelCase keys to fields", () => {
    const schema = v.object({ db: v.object({ maxConnections: v.number() }) });
    assert.deepEqual(run(schema, "db:\n  max_connections: 1\n").tree, {
      db: { maxConnections: "1" },
    });
    assert.deepEqual(run(schema, "db:\n  maxConnections: 1\n").tree, {
      db: { maxConnections: "1" },
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
    assert.deepEqual(tree, { feeds: { binance_spot: { pollInterval: "5" } } });
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
    const root: Raw = { value: new Map(), source: { kind: "default" } };
    const problems: ConfigProblem[] = [];
    const fields = fieldTable(shapeOf(cqiSchema), "CQI");
    const layers: EnvLayer[] = [{
      kind: "env",
      reader: recordEnv({
        CQI_DATABASE_MAX_CONNECTIONS: "7",
        CQI_EVENT_BUS_BROKERS: "a,b",
      }),
    }];
    await mergeEnv(root, fields, layers, problems);
    assert.deepEqual(problems, []);
    assert.ok(fields.some((f) => f.envKey === "CQI_AUTH_JWT_JWKS_URL"));
    assert.deepEqual(plain(root), {
      database: { maxConnections: "7" },
      eventBus: { brokers: "a,b" },
    });
  });
});
