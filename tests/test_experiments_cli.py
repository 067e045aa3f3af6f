"""experiments/table*.py: wrong rows, profiles and flags exit non-zero naming the valid choices."""

import json

import pytest

from inception import rows
from tests.support import run_script as _run


def test_wrong_row_exits_naming_the_tables_rows():
    done = _run("experiments/table3.py", "--row", "rf79")  # a Table 2 row

    assert done.returncode != 0
    for name in rows.rows_of("table3") + ("all",):
        assert name in done.stderr


def test_wrong_profile_exits_naming_the_profiles():
    done = _run("experiments/table2.py", "--profile", "huge")

    assert done.returncode != 0
    assert "small" in done.stderr and "imagenet" in done.stderr


def test_wrong_dtype_policy_exits_naming_the_policies():
    done = _run("experiments/table3.py", "--dtype_policy", "float16")

    assert done.returncode != 0
    assert "float32" in done.stderr and "mixed_bfloat16" in done.stderr


def test_unknown_flag_and_stray_argument_exit_non_zero():
    assert _run("experiments/table4.py", "--rows", "crops12").returncode != 0
    assert _run("experiments/table5.py", "ensemble4_crops144").returncode != 0


@pytest.mark.slow
def test_a_row_runs_from_the_command_line_and_its_table_is_reported(tmp_path):
    results_dir = tmp_path / "results"
    common = ("--workdir", str(tmp_path / "runs"), "--results_dir", str(results_dir))
    done = _run("experiments/table2.py", "--row", "rf79", *common, "--max_steps", "1",
                "--eval_examples", "4")

    assert done.returncode == 0, done.stderr[-2000:]
    assert "table2/rf79: top-1 accuracy" in done.stdout and "wall time:" in done.stdout
    with open(results_dir / "small" / "table2" / "rf79" / "seed_0.json") as f:
        result = json.load(f)
    assert result["command"] == ("python experiments/table2.py --row rf79 " + " ".join(common)
                                 + " --max_steps 1 --eval_examples 4")

    reported = _run("experiments/table2.py", "--report", "--results_dir", str(results_dir))
    assert reported.returncode == 0, reported.stderr[-2000:]
    assert "rf79" in (results_dir / "small" / "table2.md").read_text()
