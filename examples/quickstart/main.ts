// The quickstart service: `npm start` (Deno) or `npm run start:bun`.
// Listens on PORT (default 8080) until SIGTERM or SIGINT.
import process from "node:process";
import { serve } from "@cqi/http";
import { createLogger, setDefaultLogger } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createApp } from "./app.ts";
import { memoryStore } from "./store.ts";

// JSON lines on stdout; LOG_LEVEL overrides the level.
const log = createLogger({ service: "quickstart" });
setDefaultLogger(log);

const registry = createRegistry({ namespace: "quickstart" });
const app = createApp({ store: memoryStore(), logger: log, registry });
const server = serve(app, {
  onListen: ({ hostname, port }) =>
    log.info("quickstart listening", { url: `http://${hostname}:${port}/` }),
  onError: (error) => log.error("server error", { error }),
});
await server.finished;
// shutdown() now returns how the drain went: exit 1 if it was not clean (the
// grace period ran out, or a close hook failed), so an orchestrator sees it.
const clean = await server.shutdown().then(() => true, () => false);
log.info("quickstart stopped", { clean });
await log.close(); // every buffered line reaches stdout before exit
process.exit(clean ? 0 : 1);
