// Settings of a Kafka driver, resolved by createBus (milliseconds).

/** What a Kafka driver is opened with. */
export interface KafkaDriverOptions {
  /** `host:port` of every bootstrap broker. */
  brokers: string[];
  /** The client id brokers log (the service name). */
  clientId: string;
  /** Time allowed to open a connection. */
  connectionTimeout: number;
  /** Time allowed for one request to a broker. */
  requestTimeout: number;
  /** Partitions of the topics `ensureTopics` creates; undefined: the broker's default. */
  partitions: number | undefined;
  /** Consumer session timeout (a dead member's partitions move after it). */
  sessionTimeout: number;
  /** Consumer heartbeat interval. */
  heartbeatInterval: number;
}
