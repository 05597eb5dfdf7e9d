// CQI middleware in a Hono app, served by CQI's `serve` on Deno or Bun:
//   deno run --allow-net --allow-env --allow-read examples/hono/main.ts
//   bun run examples/hono/main.ts
// Listens on PORT (default 8080); SIGTERM or SIGINT drains and exits 0.
import process from "node:process";
import { serve } from "@cqi/http";
import { createLogger } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createApp } from "./app.ts";
import { exampleKeys } from "../hello/app.ts";

const logger = createLogger({ service: { name: "hono" } }); // JSON lines on stdout
const registry = createRegistry({ namespace: "hono" });

// The key callers send as `Authorization: Bearer <key>`: API_KEY, or a new one.
const keys = exampleKeys(process.env);

const app = createApp({ logger, registry, keys });

// serve reads PORT (default 8080) and handles SIGTERM/SIGINT: it stops
// accepting, lets in-flight requests finish, then runs the close hooks.
const server = serve(app.fetch, {
  onListen: ({ hostname, port }) =>
    logger.info("listening", { url: `http://${hostname}:${port}/` }),
});
server.onClose(async () => {
  logger.info("stopped");
  await logger.close(); // every buffered line reaches stdout
});
