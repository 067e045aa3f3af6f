"""inception.experiment: every row end to end on a tiny slice, over seeds, and nothing done twice.

The parametrised test runs each row through `run_row`, the path the real
runs take, with sizes shrunk by overrides (2 steps, 64 training images, 4
evaluation images, a tenth of the filters). One workdir is shared, so the
rows that reuse bn_auxiliary's runs reuse them here too.
"""

import json
import os

import pytest

from inception import experiment, profiles, results, rows

TINY = {
    "max_steps": 2,
    "log_every_steps": 1,
    "checkpoint_every_steps": 2,
    "data": {"train_examples": 64, "eval_examples": 4, "shuffle_buffer": 64},
    "model": {"depth_multiplier": 0.1},
    "evaluation": {"heldout_every_steps": 1, "heldout_examples": 4},
}
# Fast set: a trained row at the smallest input, and a multi-crop row that reuses a run.
FAST_ROWS = ("rf79", "crops12")
SEED_KEYS = ("table", "row", "seed", "profile", "config_hash", "row_hash", "config", "top1_error",
             "top5_error", "eval_examples", "steps", "train_seconds", "wall_seconds", "machine",
             "history", "date", "command")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("runs"))


def _run(name, workdir, **kwargs):
    return experiment.run_row(name, workdir=workdir, overrides=TINY, command="pytest", verbose=0, **kwargs)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=() if name in FAST_ROWS else pytest.mark.slow) for name in rows.ROWS])
def test_every_row_runs_end_to_end(name, workdir):
    outcome = _run(name, workdir)
    row = rows.get(name)
    if isinstance(outcome, list):  # a trained row (or an alias of one): its seed records
        [record] = outcome
        assert set(SEED_KEYS) <= set(record)
        assert record["seed"] == 0 and record["steps"] == 2 and record["eval_examples"] == 4
        assert 0.0 <= record["top1_error"] <= 1.0
        assert record["machine"]["cores"] >= 1 and record["machine"]["backend"]
        assert any("heldout_top1" in h for h in record["history"])
        written = results.read_json(results.seed_path(os.path.join(workdir, "results"), "small",
                                                      record["table"], record["row"], 0))
        assert written == json.loads(json.dumps(record))
    else:  # a row that evaluates trained networks
        assert outcome["ours"]["crops"] == row.config.evaluation.crops
        assert outcome["ours"]["models"] == row.ensemble
        assert len(outcome["ours"]["correct_top1"]) == outcome["baseline"]["examples"] == 4
        assert outcome["multiply_adds"] > 0 and outcome["parameters"] > 0


def test_a_finished_seed_is_not_trained_again(workdir, monkeypatch):
    _run("rf79", workdir)  # done by the parametrised test, or now
    monkeypatch.setattr(experiment.trainer, "train_and_evaluate",
                        lambda *a, **k: pytest.fail("trained a seed that was done"))
    [again] = _run("rf79", workdir)
    assert again["seed"] == 0


def test_more_seeds_train_only_the_new_ones(tmp_path, monkeypatch):
    trained = []
    real = experiment.trainer.train_and_evaluate

    def counting(config, run_dir, **kwargs):
        trained.append(config.seed)
        return real(config, run_dir, **kwargs)

    monkeypatch.setattr(experiment.trainer, "train_and_evaluate", counting)
    _run("rf79", str(tmp_path), seeds=1)
    records = _run("rf79", str(tmp_path), seeds=2)
    assert trained == [0, 1]
    assert [r["seed"] for r in records] == [0, 1]
    assert records[0]["config_hash"] != records[1]["config_hash"]
    assert records[0]["row_hash"] == records[1]["row_hash"]


def test_a_result_of_another_config_is_kept_not_overwritten(tmp_path):
    _run("rf79", str(tmp_path))
    path = results.seed_path(str(tmp_path / "results"), "small", "table2", "rf79", 0)
    before = open(path).read()
    other = {**TINY, "max_steps": 1}
    with pytest.raises(results.ResultConflict, match="another config"):
        experiment.run_row("rf79", workdir=str(tmp_path), overrides=other, verbose=0)
    assert open(path).read() == before


def test_ensemble_members_are_seeds_of_the_reused_row(tmp_path):
    row = profiles.get("bn_auxiliary")
    seeds = experiment.seeds_of(row, "small", str(tmp_path), str(tmp_path / "results"), 4)
    assert [s.config.seed for s in seeds] == [0, 1, 2, 3]
    assert seeds[3].run_dir == os.path.join(str(tmp_path), "small", "table3", "bn_auxiliary", "seed_3")
    assert all(s.config.model == row.config.model and s.config.recipe == row.config.recipe for s in seeds)
    assert rows.get("ensemble4_crops144").ensemble == 4


def test_an_evaluating_row_trains_nothing_itself():
    with pytest.raises(ValueError, match="trains nothing"):
        experiment.seeds_of(profiles.get("crops12"), "small", "runs", "results", 1)
