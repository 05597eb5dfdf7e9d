import type { Bus, Subscription } from "@cqi/bus";
import type { Cache } from "@cqi/cache";
import type { Logger } from "@cqi/logging";
import type { Service } from "@cqi/service";
import { PositionChangedSchema } from "../../proto/gen/cqc/quickstart/v1/positions_pb.ts";
import { positionKey } from "./store.ts";

/**
 * The subscriber: drops the cached position of every `PositionChanged`
 * (consumer group `quickstart`), so that every instance's cache follows the
 * writes of every other, and logs `position event handled` with the event
 * id. A cache that cannot be reached is logged and the event acknowledged
 * all the same: the entry expires with its ttl (30 s) and retrying would
 * hold the partition behind it. Stopping it lets the message in flight
 * finish and commits it.
 */
export function cacheInvalidator(
  bus: Bus,
  cache: Cache,
  logger: Logger,
): Service {
  let subscription: Subscription | undefined;
  return {
    name: "cache-invalidator",
    async start() {
      subscription = await bus.subscribe(PositionChangedSchema, async (m) => {
        const id = m.value.position?.id ?? "";
        let invalidated = true;
        try {
          await cache.delete(positionKey(cache, id), { signal: m.signal });
        } catch (error) {
          invalidated = false;
          logger.warn("position not invalidated", { position_id: id, error });
        }
        logger.info("position event handled", {
          event_id: m.id,
          position_id: id,
          attempt: m.attempt,
          invalidated,
        });
      }, { group: "quickstart" });
    },
    async stop() {
      await subscription?.close();
    },
  };
}
