#!/usr/bin/env bash
# Installs everything (scripts/setup.sh) and runs the main job: Inception-v3
# (Table 3's bn_auxiliary row) on the embedded Fashion-MNIST, small profile:
# all 60,000 whole training images, 5 epochs at twice the paper's learning
# rate (about 7 minutes on 2 idle AMD EPYC Zen 5 cores: PERFORMANCE.md); its
# last lines are the test accuracy and the wall time. Other arguments go to
# experiments/table3.py, e.g.
#   bash scripts/main.sh --row all --seeds 5
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=2
if [ $# -eq 0 ]; then set -- --row bn_auxiliary; fi
exec .venv/bin/python experiments/table3.py "$@"
