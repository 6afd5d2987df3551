#!/usr/bin/env bash
# Reproduces models/threat_detector.json.gz and models/attack_classifier.json.gz
# (+ their .md model cards) from ../shared/datasets/cicids2017-improved-train.csv.gz
# with the time-ordered validation protocol and only the features every
# supported CICFlowMeter dialect provides (--features common), plus
# models/attack_classifier_original42.json.gz on exactly the original
# system's 42-feature input (--features original42).
#
# Usage: scripts/train-default-models.sh [path/to/threatd]
# Deterministic: fixed seed, and SOURCE_DATE_EPOCH pins created_at.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
threatd="${1:-$root/build/release/bin/threatd}"
data="$root/../shared/datasets/cicids2017-improved-train.csv.gz"
[[ -f "$data" ]] || { echo "train-default-models: $data not found (the data set is not part of the repository)" >&2; exit 1; }
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1795000000}"
common=(--data "$data" --validation time --seed 42 --model-version 2026.11.1)
"$threatd" train "${common[@]}" --features common --task binary --out "$root/models/threat_detector.json.gz"
"$threatd" train "${common[@]}" --features common --task multiclass --out "$root/models/attack_classifier.json.gz"
"$threatd" train "${common[@]}" --features original42 --task multiclass \
  --out "$root/models/attack_classifier_original42.json.gz"
# Per-class traffic statistics (never rows) for `threatd simulate`, each class's sampling spread
# calibrated against the models just trained; docs/formats/traffic-profile.md.
"$threatd" profile --data "$data" --out "$root/models/traffic_profile.json.gz" \
  --calibrate-with "$root/models/threat_detector.json.gz" "$root/models/attack_classifier.json.gz"
