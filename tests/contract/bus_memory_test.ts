// The bus contract on the memory backend.
import { createBus } from "@cqi/bus";
import { busContract } from "./bus.ts";

let worlds = 0;
busContract("memory", () => {
  const name = `contract-${worlds++}`;
  return { open: (options) => createBus(`memory://${name}`, options) };
}, { timeout: 10_000 });
