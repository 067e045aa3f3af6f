"""What the tests share: the repository root and running code in a fresh Python process.

A fresh process is for what needs one (a backend or an environment variable
read at import, serving, kill -9, several workers); everything else runs in
the test's own process.

Time limits here catch a hang, they do not measure speed: a loaded 2-core
machine runs a subprocess test several times slower than an idle fast one,
and a limit sized for the fast one fails on the slow one. `HANG_TIMEOUT_S`
is far above any test's honest run time on any machine CI uses.
"""

import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator, List, Mapping, Optional

REPO = Path(__file__).resolve().parents[1]

HANG_TIMEOUT_S = 3600


def environment(extra: Optional[Mapping[str, str]] = None) -> dict:
    """This process's environment, the repository importable, TensorFlow quiet, plus `extra`."""
    return dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2", **(extra or {}))


def run_python(code: str, *args, env: Optional[Mapping[str, str]] = None, cwd=REPO,
               check: bool = False) -> subprocess.CompletedProcess:
    """Runs `code` (dedented) in a fresh interpreter with `args` as sys.argv[1:].

    check=True asserts that it exited 0, showing the end of its output if not.
    """
    return run_command([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                       env=env, cwd=cwd, check=check)


def run_script(path: str, *args, env: Optional[Mapping[str, str]] = None, cwd=REPO,
               check: bool = False) -> subprocess.CompletedProcess:
    """Runs the repository's script `path` (e.g. "tools/benchmark.py") with `args`."""
    return run_command([sys.executable, str(REPO / path), *map(str, args)], env=env, cwd=cwd,
                       check=check)


def run_command(argv, *, env: Optional[Mapping[str, str]] = None, cwd=REPO,
                check: bool = False) -> subprocess.CompletedProcess:
    """Runs `argv` with the test environment, capturing its output, with the hang limit."""
    done = subprocess.run(list(map(str, argv)), cwd=str(cwd), env=environment(env),
                          capture_output=True, text=True, timeout=HANG_TIMEOUT_S)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return done


@contextlib.contextmanager
def variables_created_while_tracing() -> Iterator[List[str]]:
    """While inside, the names of the variables created inside a `tf.function` trace are collected.

    A variable created by a function's first trace makes TensorFlow trace it
    a second time (tensorflow/tensorflow#48851); a training step should find
    all its state built before it runs.
    """
    import tensorflow as tf

    names: List[str] = []

    def record(next_creator, **kwargs):
        if tf.inside_function():
            names.append(kwargs.get("name") or "?")
        return next_creator(**kwargs)

    with tf.variable_creator_scope(record):
        yield names
