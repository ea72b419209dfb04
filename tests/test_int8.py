"""The int8 rewrite of ONNX graphs: exactness where it must be exact, smoothing where it helps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from onnx import TensorProto, numpy_helper  # noqa: E402
from onnx import helper as make  # noqa: E402

from cube.embeddings import _int8, _onnx  # noqa: E402

pytestmark = pytest.mark.skipif(
    _onnx.int8_unsafe_reason() is not None,
    reason=f"onnxruntime's int8 products are not exact on this CPU: {_onnx.int8_unsafe_reason()}",
)


def two_projections(path: Path, w1: np.ndarray, w2: np.ndarray) -> Path:
    """x → x·w1 and x·w2 (one shared input, like query and key), then (x·w1)·w3 (down to 8)."""
    rng = np.random.default_rng(1)
    w3 = rng.normal(size=(w1.shape[1], 8)).astype(np.float32)
    graph = make.make_graph(
        [
            make.make_node("MatMul", ["x", "w1"], ["a"], name="first"),
            make.make_node("MatMul", ["x", "w2"], ["b"], name="second"),
            make.make_node("MatMul", ["a", "w3"], ["c"], name="third"),
        ],
        "projections",
        [make.make_tensor_value_info("x", TensorProto.FLOAT, [1, None, w1.shape[0]])],
        [
            make.make_tensor_value_info(name, TensorProto.FLOAT, [1, None, width])
            for name, width in (("a", w1.shape[1]), ("b", w2.shape[1]), ("c", 8))
        ],
        [numpy_helper.from_array(w, name) for w, name in ((w1, "w1"), (w2, "w2"), (w3, "w3"))],
    )
    model = make.make_model(graph, opset_imports=[make.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def run(path: Path, x: np.ndarray) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


@pytest.fixture
def outlier_activations():
    """Tokens whose channel 3 is 40x larger than the others, as in transformer layers."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 50, 32)).astype(np.float32)
    x[..., 3] *= 40
    return x


def test_every_weighted_matmul_becomes_integer_and_the_shared_input_is_quantized_once(
    tmp_path, outlier_activations
):
    rng = np.random.default_rng(2)
    w1, w2 = (rng.normal(size=(32, 64)).astype(np.float32) for _ in range(2))
    float_file = two_projections(tmp_path / "float.onnx", w1, w2)
    ranges = _int8.activation_ranges(float_file, [{"x": outlier_activations}], workers=1)
    assert set(ranges) == {"x", "a"}
    np.testing.assert_allclose(ranges["x"], np.abs(outlier_activations[0]).max(axis=0))
    _int8.quantize(float_file, ranges, tmp_path / "int8.onnx")

    ops = [node.op_type for node in onnx.load(str(tmp_path / "int8.onnx")).graph.node]
    assert ops.count("MatMulInteger") == 3
    assert ops.count("QuantizeLinear") == 2  # x (shared by two MatMuls) and a: once each
    # Only the down-projection (64 -> 8) keeps a float product, for its loudest inputs.
    assert ops.count("MatMul") == 1 and ops.count("Gather") == 1
    for got, want in zip(
        run(tmp_path / "int8.onnx", outlier_activations),
        run(float_file, outlier_activations),
        strict=True,
    ):
        assert np.abs(got - want).max() < 0.02 * np.abs(want).max()


def test_smoothing_shrinks_the_error_outlier_channels_cause(tmp_path, outlier_activations):
    rng = np.random.default_rng(3)
    w1, w2 = (rng.normal(size=(32, 64)).astype(np.float32) for _ in range(2))
    float_file = two_projections(tmp_path / "float.onnx", w1, w2)
    ranges = _int8.activation_ranges(float_file, [{"x": outlier_activations}], workers=1)
    want = run(float_file, outlier_activations)[0]
    errors = {}
    for alpha in (0.0, _int8.ALPHA):  # alpha 0 leaves the activations as they are
        _int8.quantize(float_file, ranges, tmp_path / f"{alpha}.onnx", alpha=alpha)
        got = run(tmp_path / f"{alpha}.onnx", outlier_activations)[0]
        errors[alpha] = float(np.abs(got - want).mean())
    assert errors[_int8.ALPHA] < 0.5 * errors[0.0], errors


def test_a_token_is_quantized_by_its_own_scale(tmp_path, outlier_activations):
    """Rows never share a scale: a token's output is the same whatever tokens surround it."""
    rng = np.random.default_rng(4)
    w1, w2 = (rng.normal(size=(32, 64)).astype(np.float32) for _ in range(2))
    float_file = two_projections(tmp_path / "float.onnx", w1, w2)
    ranges = _int8.activation_ranges(float_file, [{"x": outlier_activations}], workers=1)
    _int8.quantize(float_file, ranges, tmp_path / "int8.onnx")
    alone = run(tmp_path / "int8.onnx", outlier_activations[:, :1])[0]
    louder = outlier_activations.copy()
    louder[:, 1:] *= 100
    among = run(tmp_path / "int8.onnx", louder)[0]
    np.testing.assert_array_equal(alone[0, 0], among[0, 0])


def test_the_down_projection_keeps_its_loudest_inputs_in_float(tmp_path, outlier_activations):
    rng = np.random.default_rng(5)
    w1, w2 = (rng.normal(size=(32, 64)).astype(np.float32) for _ in range(2))
    w1[3, 40] = 30.0  # with x's loud channel 3, a's channel 40 is louder than all others
    float_file = two_projections(tmp_path / "float.onnx", w1, w2)
    ranges = _int8.activation_ranges(float_file, [{"x": outlier_activations}], workers=1)
    _int8.quantize(float_file, ranges, tmp_path / "int8.onnx")
    initializers = {
        init.name: numpy_helper.to_array(init)
        for init in onnx.load(str(tmp_path / "int8.onnx")).graph.initializer
    }
    (kept,) = (v for k, v in initializers.items() if k.endswith("_kept") and "_w_" not in k)
    assert len(kept) == _int8.FLOAT_CHANNELS and 40 in kept
    want = run(float_file, outlier_activations)[2]
    got = run(tmp_path / "int8.onnx", outlier_activations)[2]
    assert np.abs(got - want).max() < 0.02 * np.abs(want).max()


def test_calibration_passages_are_fixed_passages_of_the_bundled_corpus():
    texts = _int8.calibration_texts()
    assert len(texts) == _int8.CALIBRATION_PASSAGES == len(set(texts))
    assert texts == _int8.calibration_texts()
    assert all(len(text.split()) > 20 for text in texts)
