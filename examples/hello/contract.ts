// The tests every server example passes (deno-serve, bun-serve, hono): the
// same CQI middleware must behave the same on each server.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger, type Logger, memorySink } from "@cqi/logging";
import { createRegistry, type MetricsRegistry } from "@cqi/metrics";
import type { ApiKeyRecord } from "@cqi/auth";
import { runtime, spawnScript } from "../../tests/_util.ts";

const KEY = "example-test-key-0123456789";
const AUTH = { authorization: `Bearer ${KEY}` };

/** What an example's app is built from. */
export interface AppParts {
  logger: Logger;
  registry: MetricsRegistry;
  keys: ApiKeyRecord[];
}

/** A running example app: its base URL and how to stop it. */
export interface Started {
  base: string;
  close(): Promise<void>;
}

/** Describes one server example. */
export interface Example {
  /** The example's folder name, also its service name. */
  name: string;
  /** Its metric namespace. */
  namespace: string;
  /** The runtime it needs; `undefined` when it runs on both. */
  needs?: "deno" | "bun";
  /** Its `main.ts`. */
  main: URL;
  /** Serves the example's app built from `parts` on 127.0.0.1, port 0. */
  start(parts: AppParts): Promise<Started>;
}

/** Registers the shared tests for `example`. */
export function exampleContract(example: Example): void {
  const { name, namespace, needs } = example;
  const withServer = async (
    fn: (base: string, log: ReturnType<typeof memorySink>) => Promise<void>,
  ) => {
    const log = memorySink();
    const server = await example.start({
      logger: createLogger({ service: { name: name }, output: log }),
      registry: createRegistry({ namespace }),
      keys: [{ id: "test", key: KEY }],
    });
    try {
      await fn(server.base, log);
    } finally {
      await server.close();
    }
  };

  describe(`${name} example (on ${runtime})`, {
    skip: needs === undefined || needs === runtime ? false : `needs ${needs}`,
  }, () => {
    it("answers 401 with WWW-Authenticate without a key, 200 with one", async () => {
      await withServer(async (base) => {
        const denied = await fetch(`${base}/hello/ada`);
        assert.equal(denied.status, 401);
        assert.match(
          denied.headers.get("www-authenticate") ?? "",
          /^Bearer\b/,
        );
        assert.equal((await denied.json()).code, "UNAUTHORIZED");

        const res = await fetch(`${base}/hello/ada`, { headers: AUTH });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { hello: "ada" });
      });
    });

    it("serves /metrics without a key, labelled by route pattern", async () => {
      await withServer(async (base) => {
        for (const who of ["ada", "grace"]) {
          await (await fetch(`${base}/hello/${who}`, { headers: AUTH })).text();
        }
        const res = await fetch(`${base}/metrics`);
        assert.equal(res.status, 200);
        const text = await res.text();
        assert.match(
          text,
          new RegExp(
            `${namespace}_http_request_count_total\\{[^}]*path="/hello/:name"[^}]*status_code="200"[^}]*\\} 2`,
          ),
        );
        assert.ok(!text.includes("/hello/ada"), "raw paths are no labels");
      });
    });

    it("writes an access-log line with the route pattern and the caller", async () => {
      await withServer(async (base, log) => {
        await (await fetch(`${base}/hello/ada`, { headers: AUTH })).text();
        const line = log.records.find((r) => r.message === "request completed");
        assert.ok(line, "an access-log line");
        assert.equal(line.route, "/hello/:name");
        assert.equal(line.status, 200);
        assert.equal(line.key_id, "test");
        assert.ok(!log.lines.some((l) => l.includes(KEY)), "the key is no log");
      });
    });

    it("main.ts serves until SIGTERM, then drains and exits 0", async () => {
      const child = spawnScript(example.main, {
        env: { PORT: "0", API_KEY: KEY },
      });
      try {
        const line = await child.line((l) => l.includes('"listening"'));
        const port = new URL(JSON.parse(line).url).port;
        const res = await fetch(`http://127.0.0.1:${port}/hello/x`, {
          headers: AUTH,
        });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { hello: "x" });

        child.signal("SIGTERM");
        assert.equal(await child.exited, 0);
        assert.equal(JSON.parse(child.lines.at(-1)!).message, "stopped");
      } finally {
        child.signal("SIGKILL"); // only matters when an assertion failed
        await child.exited;
      }
    });
  });
}
