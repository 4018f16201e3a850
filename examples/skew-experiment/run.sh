#!/usr/bin/env bash
# The skew experiment: the same three data owners federated twice on this machine (local mode), once with the
# shards skewed by context length and once by data quality, then local versus global effects side by side.
# Needs the built jars (the README's build command); about 8 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=.fedtune/skew-experiment
for jar in trainer-image/target/fedtune-trainer.jar operator/local/target/fedtune-local.jar; do
  [ -f "$jar" ] || { echo "missing $jar: build first (mvn -B -q package -DskipTests)" >&2; exit 2; }
done
python3 examples/skew-experiment/make_data.py "$work/data"
for skew in length quality; do
  java -jar operator/local/target/fedtune-local.jar up "examples/skew-experiment/$skew-skew" --data "$work/data/$skew" \
    | tee "$work/$skew-skew.log"
done
python3 examples/skew-experiment/compare.py .fedtune/length-skew .fedtune/quality-skew "$work/data"
