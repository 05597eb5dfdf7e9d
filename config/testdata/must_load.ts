// Loads the configuration from the real environment with mustLoad and
// prints it with console.log; the must_load tests run it as a child process.
import { mustLoad } from "../mod.ts";

const config = await mustLoad({ envFile: false });
console.log(`loaded ${config.service.name} on port ${config.server.port}`);
console.log("database:", config.database);
