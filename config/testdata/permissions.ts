// Loads with the default .env and the real environment, printing the
// outcome; run under restricted Deno permissions by the must_load tests.
import { isConfigError, loadConfig } from "../mod.ts";

try {
  const config = await loadConfig({
    onWarning: (w) => console.log(`warning: ${w.message}`),
  });
  console.log(`loaded ${config.service.name}`);
} catch (error) {
  if (!isConfigError(error)) throw error;
  console.log(error.message);
}
