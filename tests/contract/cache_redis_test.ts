// The cache contract on the machine's Redis (127.0.0.1:6379), through each
// client library. Without the server it is skipped locally and fails under
// CI=true.
import { test } from "node:test";
import { createCache } from "@cqi/cache";
import {
  REDIS_URL,
  redisReachable,
} from "../../cache/testdata/redis_server.ts";
import { cacheContract } from "./cache.ts";

const host = new URL(REDIS_URL).host;
if (await redisReachable()) {
  for (const client of ["node-redis", "ioredis"] as const) {
    cacheContract(
      `redis (${client})`,
      (options) => createCache(REDIS_URL, { ...options, client }),
    );
  }
} else if (process.env.CI === "true") {
  throw new Error(`Redis at ${host} is not reachable, and CI=true requires it`);
} else {
  test("cache contract: redis", (t) =>
    t.skip(`Redis at ${host} is not reachable`));
}
