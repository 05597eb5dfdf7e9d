import { invalidInput } from "@cqi/errors";

// Kafka's rule for topic names (NATS subjects accept the same set).
const LEGAL = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * The topic of a message type, by the convention `{package}.{snake_name}`:
 * `cqc.events.v1.PositionChanged` → `cqc.events.v1.position_changed`.
 *
 * @example Usage
 * ```ts
 * import { topicOf } from "@cqi/bus";
 *
 * console.log(topicOf("cqc.events.v1.PositionChanged")); // "cqc.events.v1.position_changed"
 * ```
 *
 * @param typeName A message type's full name.
 * @returns The topic name.
 * @throws {CqiError} `invalid_input` when the name gives no legal topic.
 */
export function topicOf(typeName: string): string {
  const dot = typeName.lastIndexOf(".");
  const name = typeName.slice(dot + 1)
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
  return checkTopic(typeName.slice(0, dot + 1) + name);
}

/** Returns `topic` when Kafka and NATS both accept it (NATS: no empty token); throws otherwise. */
export function checkTopic(topic: string): string {
  if (
    typeof topic !== "string" || !LEGAL.test(topic) || topic.startsWith(".") ||
    topic.endsWith(".") || topic.includes("..")
  ) {
    throw invalidInput(
      `invalid topic ${JSON.stringify(String(topic).slice(0, 64))}: ` +
        "expected 1 to 249 of a-z, A-Z, 0-9, '.', '_' and '-', " +
        "with no empty part between dots",
    );
  }
  return topic;
}
