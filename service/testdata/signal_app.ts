// A process for run_test.ts: `ok`, `stop-fails` or `hang` as its argument.
import process from "node:process";
import { httpService, run, runner, type Service } from "../mod.ts";

const mode = process.argv.at(-1);
const http = httpService(() => new Response("ok"), {
  port: 0,
  hostname: "127.0.0.1",
});
const worker: Service = {
  name: "worker",
  start: () => Promise.resolve(),
  stop: () => {
    console.log("stop worker");
    if (mode === "stop-fails") return Promise.reject(new Error("stuck"));
    if (mode === "hang") return new Promise(() => {});
    return Promise.resolve();
  },
};
const app = runner({ services: [worker, http] });
await run(app, {
  health: {
    markStarted: () => console.log(`listening ${http.addr!.port}`),
    beginShutdown: () => console.log("beginShutdown"),
  },
  drainDelay: 10,
  gracePeriod: mode === "hang" ? 100 : 5_000,
  onShutdown: [() => console.log("hook 1"), () => console.log("hook 2")],
  log: { info: () => {}, error: (message) => console.log(`error ${message}`) },
  exit: (code) => process.exit(code),
});
