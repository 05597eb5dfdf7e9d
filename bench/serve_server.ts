// Serves "hello" on 127.0.0.1 either with the runtime's own server or with
// CQI's `serve` (Host check, drain accounting, JSON errors, listener
// recovery), to measure what `serve` itself costs. Usage:
// serve_server.ts runtime|serve
import process from "node:process";
import { serve } from "@cqi/http";

const handler = () => new Response("hello");
const variant = process.argv.at(-1);
const bun = (globalThis as {
  Bun?: { serve(o: unknown): { port: number } };
}).Bun;
let port: number;
if (variant === "serve") {
  port = serve(handler, { port: 0, hostname: "127.0.0.1" }).addr.port;
} else if (variant === "runtime") {
  port = bun !== undefined
    ? bun.serve({ port: 0, hostname: "127.0.0.1", fetch: handler }).port
    : Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler)
      .addr.port;
} else {
  throw new Error(`unknown variant ${variant}`);
}
console.log(`port ${port}`);
