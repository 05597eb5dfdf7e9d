// The cache contract on the memory backend.
import { createCache } from "@cqi/cache";
import { cacheContract } from "./cache.ts";

cacheContract("memory", (options) => createCache("memory://", options));
