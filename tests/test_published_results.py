"""The committed result files (docs/results) still describe the rows the code defines.

A change of a row's config or of a profile changes the row's hash, and the
report then leaves that row's published seeds out as "of an older config".
This test makes such a change fail loudly instead, so that whoever makes it
reruns the row (or reverts the change) rather than emptying a table.
"""

import glob
import os

import pytest

from inception import profiles, results, rows
from tests.support import REPO

PUBLISHED = REPO / results.PUBLISHED
SEED_FILES = sorted(glob.glob(str(PUBLISHED / "*" / "*" / "*" / "seed_*.json")))


def test_the_published_results_are_found():
    # The glob above is the layout `inception.results.seed_path` writes.
    expected = results.seed_path(str(PUBLISHED), "small", "table3", "bn_auxiliary", 0)
    assert os.path.relpath(expected, PUBLISHED).split(os.sep) == ["small", "table3", "bn_auxiliary",
                                                                  "seed_0.json"]


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: os.path.relpath(p, PUBLISHED))
def test_each_published_seed_is_of_the_config_the_code_defines(path):
    record = results.read_json(path)
    profile, table, row = os.path.relpath(path, PUBLISHED).split(os.sep)[:3]
    assert (record["profile"], record["table"], record["row"]) == (profile, table, row)
    assert row in rows.rows_of(table)
    defined = profiles.get(row, profile).config
    config = defined.derive(seed=defined.seed + record["seed"])  # as inception.experiment seeds it
    assert record["row_hash"] == config.identity_hash(with_seed=False), (
        f"{row} at the {profile} profile is no longer the config its published seeds trained; "
        "rerun the row or revert the change")
    assert record["config_hash"] == config.identity_hash()
