"""Running one benchmark phase in a fresh Python process: a Keras backend, TensorFlow's oneDNN on or off."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from typing import Callable

from inception.benchmarking.progress import PREFIX
from inception.benchmarking.settings import Settings

ONEDNN_FLAG = "TF_ENABLE_ONEDNN_OPTS"  # also inception.fast_inference.ONEDNN_FLAG (that imports TF)
# The folder holding this `inception`, first on the child's path: the child runs the parent's code
# (a checkout beside an installed copy, a worktree).
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _child_environment(onednn: bool, backend: str) -> dict:
    path = os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND=backend,
                **{ONEDNN_FLAG: "1" if onednn else "0"})


def run_phase(phase: str, settings: Settings, onednn: bool, log: Callable[[str], None] = print,
              backend: str = "tensorflow", **arguments) -> dict:
    """Runs `phase` (`phases.PHASES`) in a fresh process; returns its figures, relaying its progress.

    The child imports Keras with `backend` (KERAS_BACKEND) and starts
    TensorFlow with its oneDNN kernels on or off (TF_ENABLE_ONEDNN_OPTS).
    """
    with tempfile.TemporaryDirectory() as folder:
        arguments_file = os.path.join(folder, "arguments.json")
        output, errors = os.path.join(folder, "result.json"), os.path.join(folder, "stderr.txt")
        with open(arguments_file, "w") as f:
            json.dump(dict(arguments, settings=dataclasses.asdict(settings)), f)
        command = [sys.executable, "-m", "inception.benchmarking.phases", phase, arguments_file, output]
        with open(errors, "w") as stderr:
            process = subprocess.Popen(command, env=_child_environment(onednn, backend), stdout=subprocess.PIPE,
                                       stderr=stderr, text=True)
            for line in process.stdout:
                if line.startswith(PREFIX):
                    log("  " + line[len(PREFIX):].rstrip())
            process.wait()
        if process.returncode != 0:
            with open(errors) as f:
                raise RuntimeError(f"benchmark phase {phase!r} failed:\n{f.read()[-4000:]}")
        with open(output) as f:
            return json.load(f)
