// Serves one benchmark variant on 127.0.0.1 with the runtime's own server
// (CQI's `serve` is Deno.serve / Bun.serve). Usage: http_server.ts <variant>
import process from "node:process";
import { serve } from "@cqi/http";
import { variants } from "./http_variants.ts";

const name = process.argv.at(-1)!;
const make = variants[name];
if (make === undefined) throw new Error(`unknown variant ${name}`);
const server = serve(make(), { port: 0, hostname: "127.0.0.1" });
console.log(`port ${server.addr.port}`);
