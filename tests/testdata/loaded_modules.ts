// Imports the root module, then prints every module file the runtime has
// loaded, one JSON array. (ESM and CommonJS alike land in require.cache on
// Bun; on Deno, npm CommonJS packages do.)
import { createRequire } from "node:module";
await import("../../mod.ts");
console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));
