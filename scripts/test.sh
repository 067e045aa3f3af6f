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
# -n 2 (pytest-xdist): two test processes. On 2 cores, with a training run sharing them, the
# fast tests of four modules took 483 s instead of 661 s (1.37x, issue 17): a test
# waits on its subprocesses and on Python much of the time, and the other process fills it.
# INCEPTION_TEST_WORKERS=0 runs them in this process (e.g. to debug with pdb).
workers=${INCEPTION_TEST_WORKERS:-2}
if [ "$workers" = 0 ]; then parallel=(); else parallel=(-n "$workers"); fi
.venv/bin/python -m pytest "${parallel[@]}" --durations=20 "${args[@]}"
status=$?
if [ $status -eq 5 ]; then
  echo "error: pytest collected no tests; that is a failure, not a pass." >&2
  exit 1
fi
exit $status
