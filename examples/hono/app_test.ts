import { serve } from "@cqi/http";
import { createApp } from "./app.ts";
import { exampleContract } from "../hello/contract.ts";

exampleContract({
  name: "hono",
  namespace: "hono",
  main: new URL("./main.ts", import.meta.url),
  start: (parts) => {
    const server = serve(createApp(parts).fetch, {
      port: 0,
      hostname: "127.0.0.1",
      handleSignals: false,
    });
    return Promise.resolve({
      base: `http://127.0.0.1:${server.addr.port}`,
      close: () => server.shutdown(),
    });
  },
});
