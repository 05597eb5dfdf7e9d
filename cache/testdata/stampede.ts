// One process of the cross-process stampede test: waits for the go key,
// then makes 200 concurrent getOrLoad calls for one key. The loader counts
// its runs in Redis (INCR) and takes 200 ms. Prints "done <values>".
import { createCache } from "@cqi/cache";
import { json } from "@cqi/codec";
import { redisCommand } from "./redis_server.ts";

const url = process.env.REDIS_URL!;
const key = process.env.STAMPEDE_KEY!;
const client = process.env.REDIS_CLIENT as "node-redis" | "ioredis";
await using cache = createCache(url, { client });
console.log("ready");
while ((await redisCommand(url, "GET", `${key}:go`)) === null) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const Value = json<{ from: number }>();
const values = await Promise.all(
  Array.from({ length: 200 }, () =>
    cache.getOrLoad(key, Value, async () => {
      await redisCommand(url, "INCR", `${key}:loads`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { from: process.pid };
    }, { ttl: 60_000 })),
);
console.log(`done ${new Set(values.map((v) => v.from)).size}`);
