import { createHandler } from "../hello/app.ts";
import { exampleContract } from "../hello/contract.ts";

// Bun's own types are not installed here; this is the part of them used.
type BunServe = (options: {
  port: number;
  hostname: string;
  fetch: (req: Request) => Promise<Response>;
}) => { port: number; stop(): Promise<void> };

exampleContract({
  name: "bun-serve",
  namespace: "bun_serve",
  needs: "bun",
  main: new URL("./main.ts", import.meta.url),
  start: (parts) => {
    const { Bun } = globalThis as unknown as { Bun: { serve: BunServe } };
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: createHandler(parts),
    });
    return Promise.resolve({
      base: `http://127.0.0.1:${server.port}`,
      close: () => server.stop(),
    });
  },
});
