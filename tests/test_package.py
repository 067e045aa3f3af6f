"""`import inception` is cheap, and its parts are reachable from it (PEP 562 lazy attributes)."""

import textwrap

import pytest

import inception
from tests.support import run_python

PARTS = ("weights", "data", "training", "loading", "export", "config", "profiles", "rows",
         "fine_tune", "evaluation")


def test_import_inception_imports_neither_the_data_sets_nor_the_trainer():
    script = textwrap.dedent("""
        import sys
        import inception
        loaded = sorted(m for m in sys.modules
                        if m.startswith(("tensorflow_datasets", "inception.training", "inception.data")))
        print(loaded)
    """)
    done = run_python(script)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name", PARTS)
def test_parts_are_reachable_after_import_inception(name):
    module = getattr(inception, name)
    assert module.__name__ == f"inception.{name}"
    assert name in dir(inception)


def test_names_reachable_through_the_parts():
    assert callable(inception.training.paper_recipe) and callable(inception.data.build_dataset)
    assert callable(inception.data.steps_per_epoch) and callable(inception.weights.load_pretrained)
    assert callable(inception.fine_tune.fine_tune)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        inception.nope
