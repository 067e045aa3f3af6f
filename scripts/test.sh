#!/usr/bin/env bash
# Installs everything (scripts/setup.sh) and runs the tests.
#   bash scripts/test.sh          every test, as CI runs them
#   bash scripts/test.sh --fast   skip the tests marked slow (multi-process, many replicas)
# Other arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

args=()
for arg in "$@"; do
  if [ "$arg" = "--fast" ]; then args+=(-m "not slow"); else args+=("$arg"); fi
done
export TF_CPP_MIN_LOG_LEVEL=2
# --durations=20: the slowest tests, at the end of every run, so a slow one is seen at once.
.venv/bin/python -m pytest --durations=20 "${args[@]}"
status=$?
if [ $status -eq 5 ]; then
  echo "error: pytest collected no tests; that is a failure, not a pass." >&2
  exit 1
fi
exit $status
