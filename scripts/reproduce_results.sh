#!/usr/bin/env bash
# Regenerates every published result under docs/results/ and then RESULTS.md:
# Tables 2-5 and the controls at the small profile with 5 seeds, and the long
# run. Seeds whose result file is already there (for the same config) are
# skipped, so an interrupted run continues where it stopped; run it again.
# About 9 hours on 2 CPU cores (60 trained seeds of ~8.5 minutes, the
# multi-crop evaluations, the 45-minute long run).
#   bash scripts/reproduce_results.sh            # everything
#   bash scripts/reproduce_results.sh table3     # one table (table2..5, controls, long)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=2
RESULTS=docs/results
SEEDS=5
run() { "$PYTHON" experiments/"$1".py --row all --seeds "$SEEDS" --results_dir "$RESULTS" "${@:2}"; }
targets=${*:-table3 table2 table4 table5 controls long}
for target in $targets; do
  case "$target" in
    table2|table3|table4|table5|controls) run "$target" ;;
    long) "$PYTHON" experiments/table3.py --row bn_auxiliary --profile long --seeds 1 --results_dir "$RESULTS" ;;
    *) echo "error: unknown target $target; valid: table2 table3 table4 table5 controls long" >&2; exit 2 ;;
  esac
done
"$PYTHON" experiments/report.py --results_dir "$RESULTS"
