"""tools/model_cost.py prints every variant's cost beside the paper's."""

from tools import model_cost


def test_cost_table_lists_every_variant_with_its_multiply_adds():
    table = model_cost.cost_table().splitlines()
    assert len(table) == 2 + len(model_cost.VARIANTS)
    rows = {line.split("|")[2].strip(): line for line in table[2:]}
    assert "| 5.71 | 4.8 |" in rows["bn_auxiliary (Inception-v3)"]
    assert "| 5.30 | 3.8 |" in rows["inception_v2 / rmsprop / label_smoothing"]
    assert "| 5.36 | - |" in rows["rf79"]
