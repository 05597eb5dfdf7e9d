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
  if (url.pathname === "/stop") {
    void server.shutdown();
    return new Response("stopping");
  }
  return new Response("ok");
}, {
  port: 0,
  hostname: "127.0.0.1",
  gracePeriod,
  onError: (error) => console.log(`error: ${(error as Error).message}`),
});
// Lets the tests wait until a signal has been seen before sending another
// (the kernel merges identical signals sent back to back).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => console.log(`got ${signal}`));
}
server.onClose(() => console.log("closed first"));
server.onClose(() => console.log("closed second"));
console.log(`port ${server.addr.port}`);
await server.finished;
const clean = await server.shutdown().then(() => true, () => false);
console.log("finished");
process.exit(clean ? 0 : 1);
