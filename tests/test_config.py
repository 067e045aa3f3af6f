"""inception.config: derived rows, validation that names the choices, identity that survives new fields."""

import dataclasses

import pytest

from inception.config import DataConfig, ExperimentConfig, ModelConfig, diff


def test_derive_changes_only_the_named_fields():
    base = ExperimentConfig()
    derived = base.derive(name="x", recipe={"label_smoothing": 0.0}, model={"stem": "7x7"})
    assert diff(base, derived) == {"name": ("inception_v3", "x"),
                                   "recipe.label_smoothing": (0.1, 0.0), "model.stem": ("3x3", "7x7")}


@pytest.mark.parametrize("changes, message", [
    ({"model": {"stem": "5x5"}}, r"valid: \('3x3'"),
    ({"model": {"grid_reduction": "strided"}}, "parallel"),
    ({"model": {"no_such_field": 1}}, r"model.no_such_field.*valid"),
    ({"recipe": {"optimizer": "adam"}}, "rmsprop"),
    ({"data": {"crop_area_range": (0.5, 1.5)}}, "cannot exceed 1.0"),
    ({"data": {"eval_crop_fraction": 0.0}}, "eval_crop_fraction"),
    ({"seeds": 0}, "seeds must be at least 1"),
    ({"epoch": 3}, r"Unknown config field 'epoch'"),
])
def test_invalid_values_name_what_is_allowed(changes, message):
    with pytest.raises(ValueError, match=message):
        ExperimentConfig().derive(**changes)


def test_json_round_trip_keeps_tuples():
    config = ExperimentConfig(data=DataConfig(crop_area_range=(0.85, 1.0)))
    again = ExperimentConfig.from_json(config.to_json())
    assert again == config and again.data.crop_area_range == (0.85, 1.0)


def test_identity_ignores_names_and_fields_left_at_their_defaults():
    config = ExperimentConfig(name="a", model=ModelConfig(num_classes=10))
    assert config.identity() == {"model": {"num_classes": 10}}
    assert config.identity_hash() == config.derive(name="b", seeds=7, description="d").identity_hash()
    assert config.identity_hash() != config.derive(seed=1).identity_hash()
    assert config.identity_hash(with_seed=False) == config.derive(seed=1).identity_hash(with_seed=False)


def test_a_field_added_later_with_its_default_keeps_old_hashes():
    @dataclasses.dataclass(frozen=True)
    class Newer(ExperimentConfig):
        brand_new_knob: int = 3

    assert Newer(model=ModelConfig(num_classes=10)).identity() == {"model": {"num_classes": 10}}
