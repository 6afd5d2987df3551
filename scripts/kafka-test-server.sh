#!/usr/bin/env bash
# Starts or stops a throw-away single-node Apache Kafka broker (KRaft) for tests.
#
#   scripts/kafka-test-server.sh start <dir>   # prints and writes <dir>/bootstrap
#   scripts/kafka-test-server.sh stop <dir>    # stops the broker, deletes <dir>
#   scripts/kafka-test-server.sh restart <dir> # stops and starts the broker of <dir>,
#                                              # keeping its data, ports and cluster id
#   scripts/kafka-test-server.sh fetch         # only downloads the jars (see below)
#
# Debian has no Kafka package, so the broker jars are fetched ONCE with Maven
# from Maven Central into a cache outside the repository:
#   ${THREATD_KAFKA_CACHE:-~/.cache/threatd/kafka-$KAFKA_VERSION}
# (a generated minimal pom + `mvn dependency:copy-dependencies`; Maven's own
# downloads go to a temporary local repository that is deleted afterwards).
# Needs Java 17 and Maven (Debian's openjdk-17-jre-headless and maven).
#
# The broker is one KRaft node (broker + controller, node.id 1) with a
# PLAINTEXT listener and a controller listener on free 127.0.0.1 ports, its
# log dirs, config and broker.log under <dir>, a bounded heap, small segments,
# no automatic topic creation and replication factor 1 for internal topics.
# `start` returns once the broker has started and accepts connections
# (bounded by THREATD_KAFKA_START_TIMEOUT, default 60 s) and writes
# 127.0.0.1:PORT to <dir>/bootstrap; on failure it prints why, writes the same
# message to <dir>/error (tests show it) and leaves no broker running.
# THREATD_KAFKA_PORT=<port> makes `start` listen on that port instead of a
# free one (tests that point a client at a broker before it exists).
# `restart` sends SIGTERM (controlled shutdown), then starts the same broker
# again and returns once it accepts connections on its old port.
# All commands are idempotent; several <dir>s may run side by side.
set -euo pipefail

KAFKA_VERSION=3.9.1           # org.apache.kafka:kafka_2.13
SLF4J_RELOAD4J_VERSION=1.7.36 # the logging binding the Kafka 3.9 distribution ships
DEPENDENCY_PLUGIN_VERSION=3.6.1
CACHE=${THREATD_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/threatd/kafka-$KAFKA_VERSION}
START_TIMEOUT=${THREATD_KAFKA_START_TIMEOUT:-60}
HEAP=${THREATD_KAFKA_HEAP:-512m}

cmd=${1:-}
dir=${2:-}
if [[ ( $cmd != start && $cmd != stop && $cmd != restart && $cmd != fetch ) || ( $cmd != fetch && -z $dir ) ]]; then
  echo "usage: $0 start|stop|restart <dir>   or   $0 fetch" >&2
  exit 2
fi

fail() {
  echo "kafka-test-server: $*" >&2
  if [[ -n $dir && -d $dir ]]; then echo "kafka-test-server: $*" >"$dir/error"; fi
  exit 1
}

# The broker's pid from <dir>/broker.pid if that process is still our broker.
broker_pid() {
  [[ -f $dir/broker.pid ]] || return 1
  local pid
  pid=$(cat "$dir/broker.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # Guard against pid reuse: the process must be the java started for <dir>.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dthreatd.kafka.dir=$dir " || return 1
  echo "$pid"
}

kill_broker() {
  local pid
  pid=$(broker_pid) || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do  # 10 s grace for a controlled shutdown
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

if [[ $cmd == stop ]]; then
  if [[ -d $dir ]]; then
    dir=$(cd "$dir" && pwd)
    kill_broker
  fi
  rm -rf "$dir"
  exit 0
fi

jars_present() { [[ -f $CACHE/.complete ]] && compgen -G "$CACHE/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; }

fetch_jars() {
  jars_present && return 0
  command -v java >/dev/null 2>&1 || fail "java not found; install Java 17 (scripts/setup.sh installs openjdk-17-jre-headless)"
  command -v mvn >/dev/null 2>&1 || fail "mvn not found; install Maven (scripts/setup.sh installs maven)"
  mkdir -p "$(dirname "$CACHE")"
  # One download at a time per cache (release and debug test runs may race).
  exec 9>"$CACHE.lock"
  flock 9
  if jars_present; then exec 9>&-; return 0; fi
  echo "kafka-test-server: fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $CACHE (once)" >&2
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/threatd-kafka-fetch.XXXXXX")
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>threatd</groupId>
  <artifactId>kafka-test-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_RELOAD4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  if ! (cd "$work" && mvn -q -B -Dmaven.repo.local="$work/m2" \
          "org.apache.maven.plugins:maven-dependency-plugin:$DEPENDENCY_PLUGIN_VERSION:copy-dependencies" \
          -DincludeScope=runtime -DoutputDirectory="$work/jars" >"$work/mvn.log" 2>&1); then
    tail -n 30 "$work/mvn.log" >&2
    rm -rf "$work"
    exec 9>&-
    fail "Maven could not fetch the Kafka jars (log above); check network access to Maven Central (or a mirror in ~/.m2/settings.xml)"
  fi
  if [[ ! -f $work/jars/kafka_2.13-$KAFKA_VERSION.jar || ! -f $work/jars/kafka-clients-$KAFKA_VERSION.jar ]]; then
    rm -rf "$work"
    exec 9>&-
    fail "Maven finished but kafka_2.13-$KAFKA_VERSION.jar or kafka-clients-$KAFKA_VERSION.jar is missing"
  fi
  touch "$work/jars/.complete"
  rm -rf "$CACHE"
  mv "$work/jars" "$CACHE"
  rm -rf "$work"
  exec 9>&-
}

if [[ $cmd == fetch ]]; then
  fetch_jars
  echo "$CACHE"
  exit 0
fi

java_opts_for() {
  java_opts=(-Xms128m "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
             "-Dlog4j.configuration=file:$1/log4j.properties" "-Dkafka.logs.dir=$1")
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts the broker of <dir> (server.properties and formatted data exist) and
# waits: 0 started, 1 exited, 2 timed out (then it is killed).
launch_broker() {
  local port=$1
  java_opts_for "$dir"
  setsid java "${java_opts[@]}" "-Dthreatd.kafka.dir=$dir" -cp "$CACHE/*" kafka.Kafka "$dir/server.properties" \
    </dev/null >"$dir/broker.log" 2>&1 &
  local launched=$!
  echo "$launched" >"$dir/broker.pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    sleep 0.2
    # By pid, not broker_pid: until setsid has exec'd java its cmdline is not yet the broker's.
    kill -0 "$launched" 2>/dev/null || return 1
    if grep -q "Kafka Server started" "$dir/broker.log" && port_in_use "$port"; then return 0; fi
  done
  kill_broker
  return 2
}

if [[ $cmd == restart ]]; then
  [[ -f $dir/server.properties && -d $dir/data ]] || fail "no broker to restart in $dir (run start first)"
  dir=$(cd "$dir" && pwd)
  port=$(sed -n 's#^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*#\1#p' "$dir/server.properties")
  [[ -n $port ]] || fail "cannot read the port from $dir/server.properties"
  kill_broker
  rm -f "$dir/bootstrap"
  rc=0
  launch_broker "$port" || rc=$?
  if ((rc != 0)); then
    tail -n 40 "$dir/broker.log" >&2
    fail "the broker did not restart (log tail above; full log in $dir/broker.log)"
  fi
  echo "127.0.0.1:$port" >"$dir/bootstrap"
  cat "$dir/bootstrap"
  exit 0
fi

# start
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -f "$dir/error"
if broker_pid >/dev/null && [[ -f $dir/bootstrap ]]; then
  cat "$dir/bootstrap"
  exit 0
fi
kill_broker  # a half-started broker from an interrupted run
rm -f "$dir/bootstrap"
fetch_jars
command -v java >/dev/null 2>&1 || fail "java not found; install Java 17 (scripts/setup.sh installs openjdk-17-jre-headless)"

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  return 1
}

cat >"$dir/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF

# Ports are checked free, but another process may take one before the broker
# binds it; then the broker exits and we try again with new ports.
started=""
for attempt in 1 2 3; do
  if [[ -n ${THREATD_KAFKA_PORT:-} ]]; then
    port=$THREATD_KAFKA_PORT
    port_in_use "$port" && fail "THREATD_KAFKA_PORT $port is in use"
  else
    port=$(free_port) || fail "no free TCP port on 127.0.0.1"
  fi
  cport=$(free_port) || fail "no free TCP port on 127.0.0.1"
  [[ $port != "$cport" ]] || continue
  rm -rf "$dir/data"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
log.segment.bytes=8388608
log.retention.bytes=268435456
log.retention.ms=3600000
log.retention.check.interval.ms=60000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
  # An id starting with '-' would be read as an option by the storage tool
  # (1 start in 64 failed with "argument --cluster-id/-t: expected one argument").
  cluster_id=-
  while [[ $cluster_id == -* ]]; do
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  done
  if ! java -Xmx256m -cp "$CACHE/*" "-Dlog4j.configuration=file:$dir/log4j.properties" \
        kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
    cat "$dir/format.log" >&2
    fail "formatting the KRaft storage failed (output above, also in $dir/format.log)"
  fi

  # setsid + redirected stdio: the broker outlives this script and holds no
  # pipe of CTest's open.
  rc=0
  launch_broker "$port" || rc=$?
  if ((rc == 0)); then started=$port; fi
  [[ -n $started ]] && break
  if ((rc == 2)); then  # timed out (killed)
    tail -n 40 "$dir/broker.log" >&2
    fail "the broker did not start within ${START_TIMEOUT}s (log tail above; full log in $dir/broker.log)"
  fi
  if ! grep -q "Address already in use" "$dir/broker.log"; then
    tail -n 40 "$dir/broker.log" >&2
    fail "the broker exited during start-up (log tail above; full log in $dir/broker.log)"
  fi
  echo "kafka-test-server: port taken during start-up (attempt $attempt), retrying with new ports" >&2
done
[[ -n $started ]] || fail "could not bind the broker to free ports after 3 attempts; see $dir/broker.log"

echo "127.0.0.1:$started" >"$dir/bootstrap"
cat "$dir/bootstrap"
