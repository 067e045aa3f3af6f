#!/usr/bin/env bash
# Installs everything (scripts/setup.sh) and runs the main job: Table 3's
# label_smoothing row on the embedded Fashion-MNIST (small profile, < 10 min
# on 2 CPU cores). Other arguments go to experiments/table3.py, e.g.
#   bash scripts/main.sh --row all --workdir runs
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=2
if [ $# -eq 0 ]; then set -- --row label_smoothing; fi
exec .venv/bin/python experiments/table3.py "$@"
