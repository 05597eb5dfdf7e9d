// Prints what readEnv gives for PORT, as JSON (`undefined` as null).
import { readEnv } from "../mod.ts";

console.log(JSON.stringify({ port: readEnv("PORT") ?? null }));
