// The start of a backend error's message: the system, the operation and the
// topics concerned (a few, shortened). Never a key, a payload or an address:
// the message may reach a client.

/** `kafka publish (topic "a")`, `nats consume (topics "a", "b" and 2 more)`. */
export function where(
  system: string,
  operation: string,
  topics: readonly string[],
): string {
  if (topics.length === 0) return `${system} ${operation}`;
  const names = topics.slice(0, 3)
    .map((t) => JSON.stringify(t.length > 100 ? `${t.slice(0, 100)}…` : t))
    .join(", ");
  const more = topics.length > 3 ? ` and ${topics.length - 3} more` : "";
  return `${system} ${operation} (${
    topics.length === 1 ? "topic" : "topics"
  } ${names}${more})`;
}
