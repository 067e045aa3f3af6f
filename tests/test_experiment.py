"""inception.experiment: every table row end to end on a tiny slice, and the table it writes.

The parametrised test runs each row through `run_row`, the path the real
runs take, with sizes shrunk by overrides (2 steps, 64 training images, 4
evaluation images, a tenth of the filters). One workdir is shared, so the
rows that reuse bn_auxiliary's run reuse it here too.
"""

import json
import os

import pytest

from inception import experiment, rows

TINY = {
    "max_steps": 2,
    "log_every_steps": 1,
    "checkpoint_every_steps": 2,
    "data": {"train_examples": 64, "eval_examples": 4, "shuffle_buffer": 64},
    "model": {"depth_multiplier": 0.1},
}
# Fast set: a trained row at the smallest input, and a multi-crop row that reuses a run.
FAST_ROWS = ("rf79", "crops12")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("runs"))


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=() if name in FAST_ROWS else pytest.mark.slow) for name in rows.ROWS])
def test_every_row_runs_end_to_end(name, workdir):
    result = experiment.run_row(name, workdir=workdir, overrides=TINY, command="pytest", verbose=0)

    row = rows.ROWS[name]
    path = os.path.join(workdir, row.table, name, experiment.RESULT_FILE)
    with open(path) as f:
        written = json.load(f)
    assert set(experiment.REQUIRED_KEYS) <= set(written)
    assert written["top1_error"] == result["top1_error"]
    assert 0.0 <= result["top1_error"] <= 1.0 and 0.0 <= result["top5_error"] <= 1.0
    assert result["paper"] == row.paper
    assert result["crops"] == row.config.evaluation.crops
    assert result["models"] == row.ensemble
    assert result["eval_examples"] == 4
    assert result["multiply_adds"] > 0 and result["parameters"] > 0
    for run_dir in result["run_dirs"]:
        assert os.path.exists(os.path.join(run_dir, "final.weights.h5"))

    table = open(experiment.write_table(row.table, workdir)).read()
    assert f"`{name}`" in table
    assert experiment._percent(result["top1_error"]) in table
    assert experiment._percent(row.paper["top1_error"]) in table
    assert "pytest" in table  # the command that made it


def test_a_reused_run_is_the_rows_own_run_and_is_not_retrained(workdir):
    crops12 = experiment.row_with_overrides("crops12", overrides=TINY)
    [member] = experiment.members(crops12, "small", workdir, TINY)
    experiment.ensure_trained(member, verbose=0)  # a no-op after the parametrised test
    results_file = os.path.join(member.run_dir, "results.json")
    trained_at = os.path.getmtime(results_file)

    result = experiment.run_row("crops12", workdir=workdir, overrides=TINY, verbose=0)

    assert result["run_dirs"] == [os.path.join(workdir, "table3", "bn_auxiliary")]
    assert os.path.getmtime(results_file) == trained_at
    assert "single_crop_top1_error" in result


def test_ensemble_members_are_seeds_of_the_reused_row(tmp_path):
    row = rows.get("ensemble4_crops144")
    members = experiment.members(row, "small", str(tmp_path))

    assert [m.config.seed for m in members] == [0, 1, 2, 3]
    assert members[0].run_dir == os.path.join(str(tmp_path), "table3", "bn_auxiliary")
    assert members[3].run_dir == os.path.join(str(tmp_path), "table5", "ensemble4_crops144", "member_3")
    base = rows.get("bn_auxiliary").config
    assert members[0].config == base
    assert members[1].config.model == base.model and members[1].config.recipe == base.recipe


def test_small_profile_evaluates_multi_crop_rows_on_a_stated_subset():
    assert rows.get("crops144").config.data.eval_examples == rows.SMALL_MULTICROP_EVAL_EXAMPLES
    assert rows.get("bn_auxiliary").config.data.eval_examples == 10_000


def _fake_result(table, name, top1, seeds=(0,), run_dirs=("",), **extra):
    return dict(table=table, row=name, description=f"{name} row", profile="small",
                dataset="fashion_mnist", top1_error=top1, top5_error=0.01, eval_examples=250,
                crops=144, models=len(seeds), multiply_adds=3_500_000, parameters=226_565,
                train_seconds=300.0, paper=rows.ROWS[name].paper, command=f"python experiments/{table}.py",
                date="2026-01-01", use_ema=True, seeds=list(seeds), run_dirs=list(run_dirs), **extra)


def test_table_has_ours_the_papers_cited_rows_command_and_curves(tmp_path):
    run_dir = tmp_path / "table3" / "rmsprop"
    run_dir.mkdir(parents=True)
    history = [{"step": s, "logits_top1": s / 100} for s in (10, 20, 30)]
    (run_dir / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in history))
    experiment.write_json(_fake_result("table3", "rmsprop", 0.1234, run_dirs=[str(run_dir)]),
                          str(run_dir / experiment.RESULT_FILE))

    text = open(experiment.write_table("table3", str(tmp_path))).read()

    assert "| `rmsprop` |" in text and "12.34%" in text  # ours
    assert "23.10%" in text and "6.30%" in text  # the paper's
    for cited in ("GoogLeNet", "BN-GoogLeNet", "BN-Inception"):
        assert f"| {cited} (cited" in text
    assert "python experiments/table3.py" in text
    assert (tmp_path / "table3" / experiment.CURVES_FILE).stat().st_size > 0
    assert "curves.png" in text


def test_ensemble_table_reports_the_seed_to_seed_spread(tmp_path):
    result = _fake_result("table5", "ensemble4_crops144", 0.1, seeds=(0, 1, 2, 3), run_dirs=["a"] * 4,
                          member_top1_errors=[0.10, 0.12, 0.11, 0.13])
    experiment.write_json(result, str(tmp_path / "table5" / "ensemble4_crops144" / "result.json"))

    text = open(experiment.write_table("table5", str(tmp_path))).read()

    assert "standard deviation 1.29%" in text and "range 3.00%" in text
    assert "4 models x 250 images x 144 crops" in text
