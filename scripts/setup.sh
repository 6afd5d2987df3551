#!/usr/bin/env bash
# Installs everything threatd needs to build, run and test on Debian 12.
# Idempotent: packages already present are skipped, and apt is not touched
# at all when nothing is missing. Run as root (or with sudo available).
set -euo pipefail

# Build toolchain and C++ libraries (all third-party code comes from Debian).
PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  libboost-dev libssl-dev
  libsqlite3-dev libpq-dev libpqxx-dev
  librdkafka-dev
  libxgboost-dev zlib1g-dev
  # ONNX importer (ai.onnx.ml tree ensembles); clang builds the libFuzzer target.
  libonnx-dev libprotobuf-dev clang
  # nftables enforcement backend (in-process, one transaction per batch).
  libnftables-dev
  nlohmann-json3-dev libsimdjson-dev libyaml-cpp-dev
  libspdlog-dev libfmt-dev libcli11-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # Test-time servers and tools. Java and Maven run the test Kafka broker,
  # whose jars scripts/kafka-test-server.sh fetches from Maven Central.
  postgresql wrk iproute2 nftables openjdk-17-jre-headless maven
  # The web console's end-to-end test drives Debian's Chromium with
  # playwright-core (never a browser downloaded by npm); a font with
  # Vietnamese glyphs for its screenshots.
  chromium fonts-dejavu-core
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

# Node.js and npm build the console and bundle the API docs; the machine may
# already have them from elsewhere (e.g. NodeSource), so look for the commands.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all system packages present"
fi
