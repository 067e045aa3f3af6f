"""The control variants of sections 3-5 (Figures 2, 9, 10): they build, and cost what they should.

Parameter and multiply-add counts are pinned at 299x299 (full width, 1000
classes, no auxiliary head) and at the small profile's size; Figure 9's
"about 3x the cost" and Figure 10's saving are checked against our counter.
"""

import numpy as np
import pytest

import inception
from inception import profiles

# (ModelConfig changes, parameters, multiply-adds) at 299x299, no aux head.
AT_299 = {
    "released": ({}, 23_851_784, 5_713_216_096),
    "figure2_linear": ({"factorized_first_activation": "linear"}, 23_851_784, 5_713_216_096),
    "figure9_pool_first": ({"grid_reduction": "pool_first"}, 23_851_784, 5_461_729_888),
    "figure9_conv_first": ({"grid_reduction": "conv_first"}, 23_851_784, 6_921_544_288),
    "asymmetric_35x35": ({"mixed_5_block": "asymmetric"}, 23_620_616, 5_427_212_896),
}
# (row, parameters, multiply-adds) as the small profile trains them (75x75, depth 0.25, 10 classes).
SMALL = {
    "bn_auxiliary": (1_377_650, 12_819_256),
    "figure2_linear": (1_377_650, 12_819_256),
    "figure9_pool_first": (1_377_650, 12_229_432),
    "figure9_conv_first": (1_377_650, 15_957_304),
    "asymmetric_35x35": (1_363_634, 12_104_248),
    "no_auxiliary": (1_377_650, 12_819_256),
}


@pytest.fixture(scope="module")
def networks():
    return {name: inception.inception_v3(include_aux=False, **changes)
            for name, (changes, _, _) in AT_299.items()}


@pytest.mark.parametrize("name", list(AT_299))
def test_each_variant_builds_at_299_with_its_pinned_cost(name, networks):
    _, parameters, multiply_adds = AT_299[name]
    model = networks[name]
    assert model.count_params() == parameters
    assert inception.count_multiply_adds(model) == multiply_adds
    assert model.get_layer("Mixed_7c").output.shape[1:] == (8, 8, 2048)


@pytest.mark.parametrize("name", list(SMALL))
def test_each_control_row_builds_at_the_small_profile(name):
    config = profiles.get(name).config
    model = inception.inception_v3(config.model)
    classifier = inception.without_aux(model) if config.model.include_aux else model
    parameters, multiply_adds = SMALL[name]
    assert classifier.count_params() == parameters
    assert inception.count_multiply_adds(classifier) == multiply_adds
    images = np.zeros((2, config.model.input_size, config.model.input_size, 3), "float32")
    outputs = model(images, training=False)
    logits = outputs["logits"] if config.model.include_aux else outputs
    assert logits.shape == (2, 10)
    assert config.model.include_aux == (name != "no_auxiliary")


def _reduction_cost(model):
    return sum(inception.count_multiply_adds(model, scope) for scope in ("Mixed_6a", "Mixed_7a"))


def test_figure9_conv_first_costs_about_3x_and_figure10_saves_it(networks):
    pool_first = _reduction_cost(networks["figure9_pool_first"])
    conv_first = _reduction_cost(networks["figure9_conv_first"])
    parallel = _reduction_cost(networks["released"])
    # Running the block before pooling costs the grid-area ratio, (35/17)^2 = 4.2 on
    # Mixed_6a and (17/8)^2 = 4.5 on Mixed_7a, over pooling first: several times.
    assert inception.count_multiply_adds(networks["figure9_conv_first"], "Mixed_6a") == pytest.approx(
        (35 / 17) ** 2 * inception.count_multiply_adds(networks["figure9_pool_first"], "Mixed_6a"),
        rel=0.01)
    assert conv_first / pool_first == pytest.approx(4.31, abs=0.01)
    # Figure 10's parallel stride-2 branches: about a third of conv_first's cost (the
    # paper's "3x"), at 1.6x the cost of the bottlenecked pool-first design.
    assert conv_first / parallel == pytest.approx(2.74, abs=0.01)
    assert parallel / pool_first == pytest.approx(1.57, abs=0.01)


def test_figure2_linear_drops_the_relu_of_each_first_layer_of_a_pair_only(networks):
    linear, released = networks["figure2_linear"], networks["released"]
    first = "Mixed_6b.Branch_1.Conv2d_0b_1x7"
    second = "Mixed_6b.Branch_1.Conv2d_0c_7x1"
    assert type(linear.get_layer(first)).__name__ == "Identity"
    assert type(released.get_layer(first)).__name__ == "ReLU"
    assert type(linear.get_layer(second)).__name__ == "ReLU"
    assert type(linear.get_layer("Mixed_5b.Branch_2.Conv2d_0b_3x3")).__name__ == "Identity"
    assert type(linear.get_layer("Mixed_5b.Branch_1.Conv2d_0b_5x5")).__name__ == "ReLU"  # no pair
    assert type(linear.get_layer("Conv2d_2a_3x3")).__name__ == "ReLU"  # the stem is Table 3's row


def test_asymmetric_35x35_replaces_each_square_kernel_by_a_pair():
    model = inception.inception_v3(include_aux=False, mixed_5_block="asymmetric",
                                   depth_multiplier=0.1, min_depth=8)
    names = {layer.name for layer in model.layers if layer.name.startswith("Mixed_5b.")}
    assert "Mixed_5b.Branch_1.Conv2d_0b_5x5_1x5" in names and "Mixed_5b.Branch_1.Conv2d_0b_5x5_5x1" in names
    assert "Mixed_5b.Branch_2.Conv2d_0b_3x3_1x3" in names and "Mixed_5b.Branch_2.Conv2d_0c_3x3_3x1" in names
    assert not any(n.endswith("_5x5") or n.endswith("_3x3") for n in names if "Branch_3" not in n)


@pytest.mark.parametrize("field, value", [("grid_reduction", "stride_3"),
                                          ("factorized_first_activation", "tanh"),
                                          ("mixed_5_block", "figure6")])
def test_a_wrong_variant_names_the_valid_ones(field, value):
    with pytest.raises(ValueError, match="valid"):
        inception.inception_v3(**{field: value})
