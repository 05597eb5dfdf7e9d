#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft: broker and controller in one
# JVM) for tests, from Maven Central jars only: needs Java 17+, and Maven the
# first time (or whenever scripts/kafka/pom.xml changes). No Docker.
#
#   bash scripts/kafka.sh start      resolve the jars, format the storage, start
#                                    the broker in the background and wait until
#                                    it serves (a no-op when this script's broker
#                                    already runs there)
#   bash scripts/kafka.sh stop       SIGTERM it (SIGKILL after 15 s); wait for exit
#   bash scripts/kafka.sh status     exit 0 when it runs and accepts connections
#   bash scripts/kafka.sh jars       resolve the jars only; print the lib folder
#   bash scripts/kafka.sh installed  exit 0 when java is there and the jars are
#                                    cached or mvn can fetch them
#   bash scripts/kafka.sh prepare    resolve the jars, write KAFKA_DIR's config,
#                                    format its storage, and print the broker's
#                                    command line, one argument a line, for a
#                                    caller that runs the JVM itself (tests)
#
# Environment:
#   CQI_KAFKA_HOME         cache folder (default ~/.cache/cqi-kafka); jars in lib/
#   KAFKA_PORT             broker port on 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT  controller port on 127.0.0.1 (default 9093)
#   KAFKA_DIR              the broker's state: server.properties, data/,
#                          kafka.log, kafka.pid (default $CQI_KAFKA_HOME/broker-$KAFKA_PORT)
#   KAFKA_START_TIMEOUT    seconds (default 60)
#   KAFKA_STOP_TIMEOUT     seconds before SIGKILL (default 15)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
conf_dir="$here/kafka"
home="${CQI_KAFKA_HOME:-$HOME/.cache/cqi-kafka}"
lib="$home/lib"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
dir="${KAFKA_DIR:-$home/broker-$port}"
data="$dir/data"
log="$dir/kafka.log"
pid_file="$dir/kafka.pid"
start_timeout="${KAFKA_START_TIMEOUT:-60}"
stop_timeout="${KAFKA_STOP_TIMEOUT:-15}"
ready_line="Kafka Server started"

say() { echo "kafka.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    echo "$JAVA_HOME/bin/java"
  else
    command -v java || return 1
  fi
}

# Holds an exclusive lock on $2 through file descriptor $1 (8 or 9) until the
# script exits; a no-op where flock(1) is missing (macOS).
lock() {
  command -v flock >/dev/null || return 0
  case "$1" in
    8) exec 8>"$2" && flock 8 ;;
    9) exec 9>"$2" && flock 9 ;;
  esac
}
unlock_jars() { if command -v flock >/dev/null; then exec 8>&-; fi; }

pom_hash() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$conf_dir/pom.xml" | cut -d' ' -f1
  else
    shasum -a 256 "$conf_dir/pom.xml" | cut -d' ' -f1
  fi
}

jars_cached() { [ -f "$lib/.stamp" ] && [ "$(cat "$lib/.stamp")" = "$(pom_hash)" ]; }

# Copies the runtime jars of scripts/kafka/pom.xml into $lib, unless the stamp
# there says they are the ones of this pom already.
resolve_jars() {
  jars_cached && return 0
  command -v mvn >/dev/null ||
    die "mvn not found: Maven is needed once to fetch the Kafka jars into $lib"
  mkdir -p "$home"
  lock 8 "$home/.lib.lock"
  if jars_cached; then
    unlock_jars
    return 0
  fi
  local tmp
  tmp="$(mktemp -d "$home/lib.tmp.XXXXXX")"
  cp "$conf_dir/pom.xml" "$tmp/pom.xml"
  say "resolving the Kafka jars with Maven into $lib"
  if ! (cd "$tmp" && mvn -q -B dependency:copy-dependencies \
    -DoutputDirectory=lib -DincludeScope=runtime) >"$tmp/mvn.log" 2>&1; then
    tail -n 40 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "Maven could not resolve scripts/kafka/pom.xml"
  fi
  pom_hash >"$tmp/lib/.stamp"
  rm -rf "$lib"
  mv "$tmp/lib" "$lib"
  rm -rf "$tmp"
  unlock_jars
}

write_config() {
  mkdir -p "$data"
  local text
  text="$(<"$conf_dir/server.properties")"
  text=${text//@BROKER_PORT@/"$port"}
  text=${text//@CONTROLLER_PORT@/"$controller_port"}
  text=${text//@DATA_DIR@/"$data"}
  printf '%s\n' "$text" >"$dir/server.properties"
}

# A random cluster id as Kafka writes one: 16 bytes, base64url, no padding
# (and not starting with "-", which a command line would take for an option).
new_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    case "$id" in
      -*) ;;
      *)
        echo "$id"
        return 0
        ;;
    esac
  done
}

# Formats the storage once (skipped when meta.properties is there already).
format_storage() {
  [ -f "$data/meta.properties" ] && return 0
  local java
  java="$(java_bin)" || die "java not found (Java 17+ is needed)"
  if ! "$java" -Xmx256m -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$conf_dir/log4j2.properties" \
    -cp "$lib/*" kafka.tools.StorageTool format -t "$(new_cluster_id)" \
    -c "$dir/server.properties" --ignore-formatted >"$dir/format.log" 2>&1; then
    cat "$dir/format.log" >&2
    die "formatting $data failed"
  fi
}

# The broker's command line, into the array `cmd`.
broker_command() {
  local java
  java="$(java_bin)" || die "java not found (Java 17+ is needed)"
  cmd=(
    "$java" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$conf_dir/log4j2.properties"
    -cp "$lib/*" kafka.Kafka "$dir/server.properties"
  )
}

# Whether pid $1 is a live process (not a zombie).
alive() {
  local stat
  stat="$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ')" || return 1
  [ -n "$stat" ] && [ "${stat#Z}" = "$stat" ]
}

# Whether pid $1 is a live kafka.Kafka JVM running this folder's config (and
# not a zombie, nor a reused pid).
is_our_broker() {
  alive "$1" || return 1
  local args
  args="$(ps -ww -o args= -p "$1" 2>/dev/null)" || return 1
  [[ "$args" == *" kafka.Kafka $dir/server.properties"* ]]
}

# Prints the pid of the broker this script started for $dir, if it runs.
broker_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  is_our_broker "$pid" || return 1
  echo "$pid"
}

port_open() { (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits (polling every 100 ms) until pid $1 is no longer our broker, for at
# most $2 seconds.
wait_gone() {
  local polls=$(($2 * 10))
  while is_our_broker "$1"; do
    polls=$((polls - 1))
    [ "$polls" -ge 0 ] || return 1
    sleep 0.1
  done
}

wait_ready() {
  local pid="$1" started="$SECONDS"
  while :; do
    if ! alive "$pid"; then
      say "the broker exited during startup; $log ends with:"
      tail -n 40 "$log" >&2 || true
      rm -f "$pid_file"
      exit 1
    fi
    if grep -q "$ready_line" "$log" 2>/dev/null && port_open "$port"; then
      say "ready on 127.0.0.1:$port in $((SECONDS - started)) s (pid $pid, log $log)"
      return 0
    fi
    if [ $((SECONDS - started)) -ge "$start_timeout" ]; then
      say "not ready within $start_timeout s (no \"$ready_line\" in the log, or 127.0.0.1:$port closed); $log ends with:"
      tail -n 40 "$log" >&2 || true
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      exit 1
    fi
    sleep 0.2
  done
}

cmd_start() {
  if [ ! -f "$pid_file" ] && port_open "$port"; then
    die "127.0.0.1:$port is in use by a process this script did not start"
  fi
  mkdir -p "$dir"
  lock 9 "$dir/.lock"
  local pid
  if pid="$(broker_pid)"; then
    if port_open "$port"; then
      say "already running on 127.0.0.1:$port (pid $pid)"
      return 0
    fi
    wait_ready "$pid"
    return 0
  fi
  port_open "$port" && die "127.0.0.1:$port is in use by a process this script did not start"
  port_open "$controller_port" &&
    die "127.0.0.1:$controller_port (controller) is in use by a process this script did not start"
  resolve_jars
  write_config
  format_storage
  broker_command
  if [ -f "$log" ]; then mv -f "$log" "$log.1"; fi
  rm -f "$pid_file"
  local detach=(nohup)
  if command -v setsid >/dev/null; then detach=(setsid); fi
  # The launcher writes its own pid, then becomes the JVM (exec): the pid
  # is the broker's even when setsid forks. The lock descriptors stay here.
  # shellcheck disable=SC2016 # $$, $1 and $@ are the launcher's
  "${detach[@]}" sh -c 'echo "$$" >"$1.tmp" && mv "$1.tmp" "$1" && shift && exec "$@"' \
    kafka-launch "$pid_file" "${cmd[@]}" </dev/null >"$log" 2>&1 8>&- 9>&- &
  local polls=50
  until [ -s "$pid_file" ]; do
    polls=$((polls - 1))
    [ "$polls" -ge 0 ] || die "the broker did not start (no pid file); see $log"
    sleep 0.1
  done
  wait_ready "$(cat "$pid_file")"
}

cmd_stop() {
  [ -d "$dir" ] || {
    say "not running"
    return 0
  }
  lock 9 "$dir/.lock"
  local pid
  if ! pid="$(broker_pid)"; then
    rm -f "$pid_file"
    say "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$stop_timeout"; then
    say "still running $stop_timeout s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
  fi
  rm -f "$pid_file"
  say "stopped (pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(broker_pid)" && port_open "$port"; then
    echo "running on 127.0.0.1:$port (pid $pid, log $log)"
    return 0
  fi
  echo "not running (127.0.0.1:$port)"
  return 1
}

cmd_installed() {
  local java version major
  java="$(java_bin)" || die "java not found (Java 17+ is needed)"
  version="$("$java" -version 2>&1 | head -n 1)"
  major="$(sed -E 's/^[^"]*"(1\.)?([0-9]+).*/\2/' <<<"$version")"
  if ! [[ "$major" =~ ^[0-9]+$ ]] || [ "$major" -lt 17 ]; then
    die "Java 17+ is needed, found: $version"
  fi
  if ! jars_cached && ! command -v mvn >/dev/null; then
    die "the Kafka jars are not cached in $lib and mvn is not installed"
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  jars)
    resolve_jars
    echo "$lib"
    ;;
  installed) cmd_installed ;;
  prepare)
    resolve_jars
    write_config
    format_storage
    broker_command
    printf '%s\n' "${cmd[@]}"
    ;;
  *)
    echo "usage: bash scripts/kafka.sh start|stop|status|jars|installed|prepare" >&2
    exit 2
    ;;
esac
