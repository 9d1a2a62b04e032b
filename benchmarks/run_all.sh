#!/usr/bin/env bash
# Runs every benchmark one after the other, each printing its medians and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in parse sms calls phone split identify render fixity ingest zip_members search; do
  echo "=== $bench"
  .venv/bin/python "benchmarks/${bench}_bench.py"
done
