// A server for the shutdown tests: prints its port, answers /slow after the
// delay given in ?ms=, and prints what happened on shutdown.
import process from "node:process";
import { serve } from "../mod.ts";

const gracePeriod = Number(process.env.GRACE_MS ?? "10000");
const server = serve(async (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/slow") {
    console.log("slow started");
    await new Promise((r) => setTimeout(r, Number(url.searchParams.get("ms"))));
    return new Response("slow done");
  }
  return new Response("ok");
}, {
  port: 0,
  hostname: "127.0.0.1",
  gracePeriod,
  onError: (error) => console.log(`error: ${(error as Error).message}`),
});
server.onClose(() => console.log("closed first"));
server.onClose(() => console.log("closed second"));
console.log(`port ${server.addr.port}`);
await server.finished;
console.log("finished");
