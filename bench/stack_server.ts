// Serves one full-stack benchmark variant on 127.0.0.1 with the runtime's own
// server (CQI's `serve` is Deno.serve / Bun.serve). Usage:
// stack_server.ts <variant>. Checks once that the variant answers 200 with
// the stored object before printing its port.
import process from "node:process";
import { serve } from "@cqi/http";
import { KEY, PATH, variants } from "./stack_variants.ts";

const name = process.argv.at(-1)!;
const make = variants[name];
if (make === undefined) throw new Error(`unknown variant ${name}`);
const server = serve(make(), { port: 0, hostname: "127.0.0.1" });
const res = await fetch(`http://127.0.0.1:${server.addr.port}${PATH}`, {
  headers: { authorization: `Bearer ${KEY}` },
});
const body = await res.text();
if (res.status !== 200 || !body.includes('"BTC"')) {
  throw new Error(`${name}: GET ${PATH} answered ${res.status} ${body}`);
}
console.log(`port ${server.addr.port}`);
