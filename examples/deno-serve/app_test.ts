import { createHandler } from "../hello/app.ts";
import { exampleContract } from "../hello/contract.ts";

exampleContract({
  name: "deno-serve",
  namespace: "deno_serve",
  needs: "deno",
  main: new URL("./main.ts", import.meta.url),
  start: (parts) => {
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      createHandler(parts),
    );
    return Promise.resolve({
      base: `http://127.0.0.1:${server.addr.port}`,
      close: () => server.shutdown(),
    });
  },
});
