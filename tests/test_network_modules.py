"""The convolution unit and the heads: Keras layers only, TF-slim names, one module each."""

import re
from pathlib import Path

import inception
from inception import blocks, conv_unit, heads

PACKAGE = Path(inception.__file__).parent


def test_the_unit_and_the_heads_use_no_tensorflow():
    # Like the blocks (tests/test_model.py): the network builds under any Keras 3 backend.
    for module in ("conv_unit.py", "heads.py"):
        source = (PACKAGE / module).read_text()
        assert not re.search(r"^\s*(import|from)\s+tensorflow|\btf\.", source, re.M), module


def test_a_scope_becomes_a_layer_name_without_slashes():
    assert conv_unit.layer_name("Mixed_6e/Branch_1/Conv2d_0a_1x1") == "Mixed_6e.Branch_1.Conv2d_0a_1x1"


def test_the_blocks_still_export_the_unit_and_the_heads():
    assert blocks.ConvUnits is conv_unit.ConvUnits
    assert blocks.classifier is heads.classifier and blocks.auxiliary_classifier is heads.auxiliary_classifier
