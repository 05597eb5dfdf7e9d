// The quickstart service: `npm start` (Deno) or `npm run start:bun`.
// Listens on PORT (default 8080) until SIGTERM or SIGINT.
import process from "node:process";
import { serve } from "@cqi/http";
import { isPermanent, kindOf } from "@cqi/errors";
import { createApp } from "./app.ts";
import { memoryStore } from "./store.ts";

const app = createApp({
  store: memoryStore(),
  onError: (error) => {
    // Until @cqi/logging exists: log server-side failures, with their causes.
    if (kindOf(error) === undefined || isPermanent(error)) console.error(error);
  },
});
const server = serve(app, {
  onListen: ({ hostname, port }) =>
    console.log(`quickstart listening on http://${hostname}:${port}/`),
});
await server.finished;
// shutdown() now returns how the drain went: exit 1 if it was not clean (the
// grace period ran out, or a close hook failed), so an orchestrator sees it.
const clean = await server.shutdown().then(() => true, () => false);
console.log("quickstart stopped");
process.exit(clean ? 0 : 1);
