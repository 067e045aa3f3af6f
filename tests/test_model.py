"""The network: golden parameter counts, shapes and variants (paper section 6, Figure 10, Table 1)."""

import pathlib
import re

import numpy as np
import pytest

import keras
import inception
from inception import model as model_lib


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.fixture(scope="module")
def canonical():
    return inception.inception_v3(num_classes=1000, include_aux=True)


# --- Golden parameter counts (keras.applications and TF-slim agree) ---

def test_parameters_without_aux_equal_keras_applications():
    model = inception.inception_v3(include_aux=False)
    assert model.count_params() == 23_851_784
    assert trainable(model) == 23_817_352


def test_parameters_of_stem_and_mixed_blocks(canonical):
    base = keras.Model(canonical.inputs, canonical.get_layer("Mixed_7c").output)
    assert base.count_params() == 21_802_784


def test_trainable_parameters_with_aux(canonical):
    assert trainable(canonical) == 27_143_152


def test_trainable_parameters_with_aux_tf_slim_layout():
    assert trainable(inception.inception_v3(num_classes=1001)) == 27_145_970


# --- Shapes of every end point ---

END_POINTS_299 = {
    "Conv2d_1a_3x3": (149, 149, 32), "Conv2d_2a_3x3": (147, 147, 32),
    "Conv2d_2b_3x3": (147, 147, 64), "MaxPool_3a_3x3": (73, 73, 64),
    "Conv2d_3b_1x1": (73, 73, 80), "Conv2d_4a_3x3": (71, 71, 192),
    "MaxPool_5a_3x3": (35, 35, 192), "Mixed_5b": (35, 35, 256),
    "Mixed_5c": (35, 35, 288), "Mixed_5d": (35, 35, 288), "Mixed_6a": (17, 17, 768),
    "Mixed_6b": (17, 17, 768), "Mixed_6c": (17, 17, 768), "Mixed_6d": (17, 17, 768),
    "Mixed_6e": (17, 17, 768), "Mixed_7a": (8, 8, 1280), "Mixed_7b": (8, 8, 2048),
    "Mixed_7c": (8, 8, 2048), "PreLogits": (1, 1, 2048), "Logits": (1000,),
    "AuxLogits": (1000,),
}
# Table 2's stems at their own input sizes: the grids after the stem match.
END_POINTS_151 = dict(END_POINTS_299, **{
    "Conv2d_1a_3x3": (149, 149, 32),  # stride 1 on 151
})
END_POINTS_79 = {
    "Conv2d_1a_3x3": (77, 77, 32), "Conv2d_2a_3x3": (75, 75, 32),
    "Conv2d_2b_3x3": (75, 75, 64), "Conv2d_3b_1x1": (75, 75, 80),
    "Conv2d_4a_3x3": (73, 73, 192), "MaxPool_5a_3x3": (36, 36, 192),
    "Mixed_5b": (36, 36, 256), "Mixed_5d": (36, 36, 288), "Mixed_6a": (17, 17, 768),
    "Mixed_6e": (17, 17, 768), "Mixed_7a": (8, 8, 1280), "Mixed_7c": (8, 8, 2048),
    "Logits": (1000,), "AuxLogits": (1000,),
}


@pytest.mark.parametrize(
    "stem,size,expected",
    [("3x3", 299, END_POINTS_299), ("rf151", 151, END_POINTS_151), ("rf79", 79, END_POINTS_79)],
)
def test_end_point_shapes(stem, size, expected):
    model = inception.inception_v3(stem=stem, input_size=size)
    outputs = inception.end_points(model).output
    for name, shape in expected.items():
        assert tuple(outputs[name].shape[1:]) == shape, name
    if stem == "rf79":
        assert "MaxPool_3a_3x3" not in outputs


def test_end_points_selection_and_unknown_name(canonical):
    features = inception.end_points(canonical, ["Mixed_6e", "Mixed_7c"])
    assert set(features.output) == {"Mixed_6e", "Mixed_7c"}
    with pytest.raises(ValueError, match="Unknown end points.*Mixed_7c"):
        inception.end_points(canonical, ["Mixed_9z"])


def test_depth_multiplier_scales_every_block():
    model = inception.inception_v3(depth_multiplier=0.5, include_aux=False)
    outputs = inception.end_points(model).output
    assert outputs["Mixed_7c"].shape[-1] == 1024
    assert outputs["Mixed_6e"].shape[-1] == 384
    assert outputs["Conv2d_1a_3x3"].shape[-1] == 16
    tiny = inception.inception_v3(depth_multiplier=0.01, min_depth=8, include_aux=False)
    # every branch hits min_depth: 4 branches x 8 in Mixed_7c's pieces.
    assert inception.end_points(tiny).output["Mixed_5b"].shape[-1] == 32


# --- Cost ---

def test_multiply_adds_at_299(canonical):
    head_free = inception.without_aux(canonical)
    mult_adds = inception.count_multiply_adds(head_free)
    assert mult_adds == 5_713_216_096
    assert abs(mult_adds / 5.71e9 - 1) < 0.005


def test_table_2_stems_have_nearly_constant_cost():
    costs = [
        inception.count_multiply_adds(inception.inception_v3(stem=stem, input_size=size, include_aux=False))
        for stem, size in (("3x3", 299), ("rf151", 151), ("rf79", 79))
    ]
    assert max(costs) / min(costs) < 1.10
    assert costs[0] == costs[1]  # the 151 stem at 151 sees the same grids after Conv2d_1a


def test_multiply_adds_counts_dense_and_conv():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(5)(x)
    model = keras.Model(inputs, outputs)
    assert inception.count_multiply_adds(model) == 8 * 8 * 3 * 3 * 3 * 4 + 256 * 5


# --- Variants ---

def test_seven_by_seven_stem_keeps_the_147_grid():
    model = inception.inception_v3(stem="7x7", include_aux=False)
    layer = model.get_layer("Conv2d_1a_7x7")
    assert tuple(layer.output.shape[1:]) == (147, 147, 64)
    assert layer.output.shape == model.get_layer("MaxPool_3a_3x3").input.shape
    names = [l.name for l in model.layers]
    assert "Conv2d_2a_3x3" not in names and "Conv2d_2b_3x3" not in names


def test_figure5_literal_block_factorizes_every_5x5():
    model = inception.inception_v3(mixed_5_block="figure5", include_aux=False)
    names = [l.name for l in model.layers]
    assert not any(n.endswith("5x5.Conv2D") and n.startswith("Mixed_5") for n in names)
    assert "Mixed_5b.Branch_1.Conv2d_0c_3x3.Conv2D" in names
    assert model.get_layer("Mixed_5d").output.shape[-1] == 288


def test_aux_head_with_and_without_batch_norm():
    with_bn = inception.inception_v3(num_classes=10, input_size=139)
    without = inception.inception_v3(num_classes=10, input_size=139, aux_batch_norm=False)
    aux_bn = [l for l in with_bn.layers if l.name.startswith("AuxLogits.") and "BatchNorm" in l.name]
    assert len(aux_bn) == 2
    assert not [l for l in without.layers if l.name.startswith("AuxLogits.") and "BatchNorm" in l.name]
    assert without.get_layer("AuxLogits.Conv2d_1b_1x1.Conv2D").use_bias
    assert trainable(with_bn) == trainable(without)  # bias and beta have the same size


def test_outputs_are_named_and_without_aux_shares_weights(canonical):
    assert set(canonical.output) == {"logits", "aux_logits"}
    head_free = inception.without_aux(canonical)
    assert head_free.get_layer("Mixed_7c") is canonical.get_layer("Mixed_7c")
    assert len(head_free.weights) < len(canonical.weights)
    single = inception.inception_v3(num_classes=7, include_aux=False, input_size=75)
    assert tuple(single.output.shape) == (None, 7)


def test_layer_names_follow_tf_slim_scopes(canonical):
    names = {l.name for l in canonical.layers}
    for expected in (
        "Conv2d_1a_3x3.Conv2D", "Conv2d_1a_3x3.BatchNorm", "Conv2d_1a_3x3",
        "Mixed_5c.Branch_1.Conv_1_0c_5x5.Conv2D",  # TF-slim's irregular names
        "Mixed_6a.Branch_0.Conv2d_1a_1x1.Conv2D",
        "Mixed_7c.Branch_1.Conv2d_0c_3x1.Conv2D",
        "AuxLogits.Conv2d_2a_5x5.Conv2D", "AuxLogits.Conv2d_2b_1x1.Conv2D",
        "Logits.Conv2d_1c_1x1.Conv2D",
    ):
        assert expected in names, expected
    bn = canonical.get_layer("Mixed_5b.Branch_0.Conv2d_0a_1x1.BatchNorm")
    assert not bn.scale and bn.epsilon == 0.001 and bn.momentum == pytest.approx(0.9997)
    assert not canonical.get_layer("Mixed_5b.Branch_0.Conv2d_0a_1x1.Conv2D").use_bias


def test_weight_decay_has_l2_loss_semantics():
    model = inception.inception_v3(num_classes=3, input_size=75, depth_multiplier=0.1, weight_decay=4e-5)
    kernels = [l.kernel for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    expected = 4e-5 * sum(float(np.sum(np.square(k.numpy()))) for k in kernels) / 2
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)
    assert not inception.inception_v3(num_classes=3, input_size=75, weight_decay=0.0).losses


def test_same_average_pooling_ignores_padded_cells():
    """TensorFlow's SAME average pool divides by the real cells only, as the released network."""
    model = inception.inception_v3(num_classes=3, input_size=75, depth_multiplier=0.1, include_aux=False)
    pool = model.get_layer("Mixed_5b.Branch_3.AvgPool_0a_3x3")
    ones = np.ones((1, 5, 5, 2), "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pool(ones)), ones, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"input_size": 74}, "smallest input it allows is 75x75"),
        ({"input_size": 20, "stem": "rf79"}, "smallest input it allows is 21x21"),
        ({"depth_multiplier": 0.0}, "depth_multiplier must be greater than zero"),
        ({"depth_multiplier": -1.0}, "depth_multiplier must be greater than zero"),
        ({"stem": "5x5"}, r"valid: \('3x3', '7x7', 'rf151', 'rf79'\)"),
        ({"mixed_5_block": "v4"}, "valid: .*released.*figure5"),
        ({"dropout_keep_prob": 0.0}, "dropout_keep_prob"),
        ({"num_classes": 0}, "num_classes"),
        ({"dtype_policy": "mixed_float16"}, r"valid: \('float32', 'mixed_bfloat16'\)"),
    ],
)
def test_invalid_arguments_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        inception.inception_v3(**kwargs)


def test_a_positional_number_of_classes_says_to_use_a_keyword():
    with pytest.raises(TypeError, match=r"inception_v3\(num_classes=10\)"):
        inception.inception_v3(10)


def test_minimum_input_sizes_build():
    for stem in inception.STEMS:
        size = inception.minimum_input_size(stem)
        model = inception.inception_v3(num_classes=2, input_size=size, stem=stem, depth_multiplier=0.05, min_depth=4)
        out = model(np.zeros((1, size, size, 3), "float32"))
        assert out["logits"].shape == (1, 2) and out["aux_logits"].shape == (1, 2)


# --- Keras integration (keras-hub style harness) ---

def small_model(**kwargs):
    return inception.inception_v3(num_classes=4, input_size=75, depth_multiplier=0.1, min_depth=4, **kwargs)


def test_keras_file_round_trip(tmp_path):
    model = small_model(batch_norm_momentum=0.9)
    images = np.random.default_rng(0).uniform(-1, 1, (2, 75, 75, 3)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    for key in ("logits", "aux_logits"):
        np.testing.assert_allclose(
            model.predict(images, verbose=0)[key], restored.predict(images, verbose=0)[key], atol=1e-6
        )


def test_mixed_bfloat16_computes_in_bfloat16_keeps_float32_weights_and_logits():
    before = keras.config.dtype_policy().name
    mixed = small_model(dtype_policy="mixed_bfloat16")
    assert keras.config.dtype_policy().name == before  # the global policy is restored
    conv = mixed.get_layer("Mixed_6e.Branch_1.Conv2d_0b_1x7.Conv2D")
    assert conv.compute_dtype == "bfloat16" and conv.kernel.dtype == "float32"
    assert all(w.dtype == "float32" for w in mixed.weights)

    plain = small_model(dtype_policy="float32")
    plain.set_weights(mixed.get_weights())  # same variables, so checkpoints and exports carry over
    images = np.random.default_rng(0).uniform(-1, 1, (8, 75, 75, 3)).astype("float32")
    got, expected = mixed(images, training=False), plain(images, training=False)
    for key in ("logits", "aux_logits"):
        assert keras.backend.standardize_dtype(got[key].dtype) == "float32"
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got[key]),
                                   keras.ops.convert_to_numpy(expected[key]), rtol=0.1, atol=0.05)


def test_fit_from_tf_data():
    import tensorflow as tf

    model = small_model(batch_norm_momentum=0.9)
    images = np.random.default_rng(0).uniform(-1, 1, (4, 75, 75, 3)).astype("float32")
    labels = np.array([0, 1, 2, 3])
    data = tf.data.Dataset.from_tensor_slices((images, {"logits": labels, "aux_logits": labels})).batch(2)
    model.compile(
        optimizer="sgd",
        loss={
            "logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "aux_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"logits": 1.0, "aux_logits": 0.4},
    )
    history = model.fit(data, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_network_definition_uses_no_tensorflow():
    """The network builds under any Keras 3 backend: no TensorFlow in it."""
    package = pathlib.Path(model_lib.__file__).parent
    for module in ("model.py", "blocks.py", "complexity.py"):
        source = (package / module).read_text()
        assert not re.search(r"^\s*(import|from)\s+tensorflow|\btf\.", source, re.M), module
