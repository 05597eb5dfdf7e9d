// A server for the descriptor-exhaustion test: prints its port, then one
// line per error serve reports; answers every request "ok".
import { serve } from "../mod.ts";

const server = serve(() => new Response("ok"), {
  port: 0,
  hostname: "127.0.0.1",
  onError: (error) =>
    console.log(`error: ${(error as Error).name}: ${(error as Error).message}`),
});
console.log(`port ${server.addr.port}`);
await server.finished;
console.log("finished");
