"""Every ```python block of README.md runs as written, each in a fresh interpreter.

The blocks read INCEPTION_README_TINY=1 to train on fewer examples; nothing
else differs from what a reader would run. They run in a temporary folder
with the repository on PYTHONPATH, as after `pip install -e .`.
"""

import re

import pytest

from tests.support import REPO, run_python

BLOCKS = re.findall(r"^```python\n(.*?)^```", (REPO / "README.md").read_text(), re.S | re.M)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path):
    code = BLOCKS[index]
    done = run_python(code, env={"INCEPTION_README_TINY": "1"}, cwd=tmp_path)
    assert done.returncode == 0, f"README block {index}:\n{code}\n{done.stderr[-3000:]}"
    epochs = re.search(r"model\.fit\(.*epochs=(\d+)", code)
    if epochs:  # fit left every epoch (a dataset that repeats forever never leaves epoch 1)
        assert f"Epoch {epochs.group(1)}/{epochs.group(1)}" in done.stdout
