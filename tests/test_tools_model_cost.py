"""tools/model_cost.py prints every trained row's cost, derived from the rows themselves."""

from inception import rows
from tools import model_cost


def test_cost_table_lists_every_trained_row_with_its_multiply_adds():
    table = model_cost.cost_table().splitlines()
    trained = [name for name, row in rows.ROWS.items() if row.trains]
    assert len(table) == 2 + len(trained)
    by_row = {line.split("|")[2].strip(" `"): line for line in table[2:]}
    assert set(by_row) == set(trained)
    assert "| 5.71 G | 1.00x | 4.8 |" in by_row["bn_auxiliary"]
    assert "| 5.30 G | 0.93x | 3.8 |" in by_row["inception_v2"]
    assert "| 5.36 G | 0.94x | - |" in by_row["rf79"]
    assert "| 6.92 G | 1.21x | - |" in by_row["figure9_conv_first"]


def test_small_profile_costs_are_the_small_networks():
    table = model_cost.cost_table("small")
    assert "| `bn_auxiliary` | 75 | 1,377,650 | 12.8 M | 1.00x |" in table
    assert "| `rf79` | 21 |" in table
