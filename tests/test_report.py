"""inception.report rebuilds tables, intervals, verdicts and curves from result files alone."""

import os

import pytest

from inception import profiles, report, results, statistics


def fake_seed(results_dir, name, seed, top1_error, steps=(100, 200), profile="small"):
    """A seed file as `inception.experiment` writes it, for the current config of `name`."""
    row = profiles.get(name, profile)
    config = row.config.derive(seed=row.config.seed + seed)
    history = [{"step": s, "logits_top1": 0.5 + s / 1000, "heldout_top1": 0.6 + s / 1000}
               for s in steps]
    run = {"top1_error": top1_error, "top5_error": 0.01, "eval_examples": 10_000, "steps": steps[-1],
           "global_batch": 128, "train_seconds": 300.0, "history": history}
    record = results.seed_record(table=row.table, row=name, seed=seed, profile=profile, config=config,
                                 run=run, machine={"cpu": "test CPU", "cores": 2, "isa": {}},
                                 command="pytest", wall_seconds=320.0)
    results.write_json(record, results.seed_path(results_dir, profile, row.table, name, seed))


@pytest.fixture
def table3(tmp_path, monkeypatch):
    """Table 3 with five seeds of rmsprop and inception_v2 and nothing else; no training allowed."""
    from inception import experiment

    monkeypatch.setattr(experiment.trainer, "train_and_evaluate",
                        lambda *a, **k: pytest.fail("the report trained"))
    for seed, (v2, rms) in enumerate([(0.10, 0.08), (0.11, 0.085), (0.105, 0.08), (0.10, 0.09),
                                      (0.11, 0.085)]):
        fake_seed(str(tmp_path), "inception_v2", seed, v2)
        fake_seed(str(tmp_path), "rmsprop", seed, rms)
    return str(tmp_path)


def test_a_row_reports_n_mean_sd_and_its_interval(table3):
    text = report.trained_table("table3", table3, "small")
    summary = statistics.summarize([0.10, 0.11, 0.105, 0.10, 0.11])
    line = next(l for l in text.splitlines() if l.startswith("| `inception_v2`"))
    assert "| 5 |" in line
    assert f"{100 * summary.mean:.2f}% ± {100 * summary.sd:.2f}" in line
    assert f"[{100 * summary.interval.low:.2f}%, {100 * summary.interval.high:.2f}%]" in line


def test_a_step_reports_its_change_with_welch_interval_and_verdict(table3):
    text = report.trained_table("table3", table3, "small")
    line = next(l for l in text.splitlines() if l.startswith("| `rmsprop`"))
    change = statistics.welch_difference([0.08, 0.085, 0.08, 0.09, 0.085], [0.10, 0.11, 0.105, 0.10, 0.11])
    assert f"{100 * change.estimate:+.2f} [{100 * change.low:+.2f}, {100 * change.high:+.2f}]" in line
    assert "-0.30" in line  # the paper's change, 23.4% -> 23.1%
    assert statistics.SAME in line  # both lower, our interval excludes zero
    label_smoothing = next(l for l in text.splitlines() if l.startswith("| `label_smoothing`"))
    assert "| 0 |" in label_smoothing  # not run yet: said so, not hidden


def test_table3_prints_the_networks_the_paper_cites_beside_ours(table3):
    text = report.trained_table("table3", table3, "small")
    line = next(l for l in text.splitlines() if l.startswith("| GoogLeNet (cited, not rerun)"))
    assert "| 29.0% |" in line and line.count("|") == text.splitlines()[0].count("|")


def test_seed_files_of_an_older_config_are_left_out_and_counted(table3):
    path = results.seed_path(table3, "small", "table3", "rmsprop", 9)
    stale = results.read_json(results.seed_path(table3, "small", "table3", "rmsprop", 0))
    stale.update(seed=9, row_hash="an older config", top1_error=0.5)
    results.write_json(stale, path)
    text = report.trained_table("table3", table3, "small")
    assert "| `rmsprop` | + RMSProp (decay 0.9, epsilon 1.0). | 5 |" in text
    assert "1 seed file(s) of an older `rmsprop` config left out." in text


def test_write_table_makes_markdown_and_the_heldout_curves(table3):
    path = report.write_table("table3", table3, "small")
    assert path == os.path.join(table3, "small", "table3.md")
    assert "table3_curves.png" in open(path).read()
    with open(os.path.join(table3, "small", "table3_curves.png"), "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_an_evaluating_row_is_bootstrapped_against_its_paired_baseline(tmp_path):
    row = profiles.get("crops12")
    ours = [True] * 1800 + [False] * 200   # 10% error
    base = [True] * 1750 + [False] * 250   # 12.5% error, the same images
    record = {"config_hash": row.config.identity_hash(), "seed_hashes": [],
              "ours": {"top1_error": 0.1, "examples": 2000, "crops": 12, "models": 1,
                       "correct_top1": results.bits(ours)},
              "baseline": {"top1_error": 0.125, "examples": 2000, "crops": 1, "models": 1,
                           "correct_top1": results.bits(base)}}
    results.write_json(record, results.evaluation_path(str(tmp_path), "small", "table4", "crops12"))
    text = report.evaluated_table("table4", str(tmp_path), "small")
    line = next(l for l in text.splitlines() if l.startswith("| `crops12`"))
    assert "10.00%" in line and "12.50%" in line and "-2.50 [" in line
    assert statistics.SAME in line  # fewer errors with 12 crops, as in the paper (-1.73 points)
    assert "not run yet" in text  # crops144 has no result file


def test_each_control_has_a_section_with_claim_cost_numbers_and_verdict(tmp_path):
    for seed, (released, linear) in enumerate([(0.10, 0.12), (0.105, 0.125), (0.10, 0.12)]):
        fake_seed(str(tmp_path), "bn_auxiliary", seed, released)
        fake_seed(str(tmp_path), "figure2_linear", seed, linear)
    text = "\n".join(report.control_sections(str(tmp_path), "small"))

    linear_section = text.split("### `figure2_linear`")[1].split("###")[0]
    assert "linear activation was always inferior" in linear_section  # the paper's claim
    assert "1.00x the released network's" in linear_section  # the same convolutions
    change = statistics.welch_difference([0.12, 0.125, 0.12], [0.10, 0.105, 0.10])
    assert f"{100 * change.estimate:+.2f} [{100 * change.low:+.2f}, {100 * change.high:+.2f}]" in linear_section
    assert statistics.SAME in linear_section  # worse, as the paper says, the interval excludes zero
    conv_first = text.split("### `figure9_conv_first`")[1].split("###")[0]
    assert "1.24x the released network's" in conv_first and "Not run yet" in conv_first


def test_results_page_has_the_main_job_and_each_profile_with_results(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "control_sections", lambda *a: [])  # they build networks; tested above
    for seed, error in enumerate([0.075, 0.078]):
        fake_seed(str(tmp_path), "bn_auxiliary", seed, error)
    page = report.results_markdown(str(tmp_path), ("small", "small_crop85"))
    assert "**92.50% top-1 accuracy**" in page and "in **5.3 minutes**" in page
    assert "Target: at least 92.0% in at most 10 minutes: met" in page
    assert "## The tables at the `small` profile" in page and "`small_crop85`" not in page
    for seed, error in enumerate([0.10, 0.11]):
        fake_seed(str(tmp_path), "bn_auxiliary", seed, error, profile="small_crop85")
    page = report.results_markdown(str(tmp_path), ("small", "small_crop85"))
    earlier = page.split("## The tables at the `small_crop85` profile")[1]
    assert "random crops of 0.85-1 of the area" in earlier and "when this profile was called `small`" in earlier
    assert "| `bn_auxiliary` | + batch-normalized auxiliary classifier (= Inception-v3). | 2 | 10.50%" in earlier
    main_job = page.split("## The tables at")[0]
    assert "**92.50% top-1 accuracy**" in main_job  # the current profile's seed 0
    assert "At the `small` profile, n = 2 seed(s): mean 92.35% top-1 accuracy, SD 0.21 points" in main_job
    assert "At the `small_crop85` profile, n = 2 seed(s): mean 89.50% top-1 accuracy" in main_job


def test_profile_search_reads_each_candidates_change_from_its_files(tmp_path):
    for seed, error in enumerate([0.085, 0.09, 0.08]):
        fake_seed(str(tmp_path), "bn_auxiliary", seed, error)
    # A candidate: the small profile at the paper's learning rate, two seeds.
    row = profiles.get("bn_auxiliary", "small", overrides={"recipe": {"learning_rate": 0.045}})
    for seed, error in enumerate([0.095, 0.1]):
        config = row.config.derive(seed=row.config.seed + seed)
        run = {"top1_error": error, "top5_error": 0.01, "eval_examples": 10_000, "steps": 10,
               "global_batch": 128, "train_seconds": 1.0, "history": []}
        record = results.seed_record(table="table3", row="bn_auxiliary", seed=seed, profile="small",
                                     config=config, run=run, machine={}, command="pytest", wall_seconds=1.0)
        results.write_json(record, str(tmp_path / report.PROFILE_SEARCH / "paper_rate" / f"seed_{seed}.json"))
    lines = "\n".join(report.profile_search_markdown(str(tmp_path))).splitlines()
    (candidate,) = [line for line in lines if line.startswith("| `paper_rate`")]
    cells = [c.strip() for c in candidate.strip("|").split("|")]
    assert cells[1] == "recipe.learning_rate 0.045 (0.09)"  # only the change, not what it implies
    assert cells[2] == "2" and cells[3] == "90.25%"
    expected = statistics.welch_difference([0.095, 0.1], [0.085, 0.09, 0.08])
    assert cells[6] == f"{100 * expected.estimate:+.2f} [{100 * expected.low:+.2f}, {100 * expected.high:+.2f}]"
    assert report.profile_search_markdown(str(tmp_path / "empty")) == []
