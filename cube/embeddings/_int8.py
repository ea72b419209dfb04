"""The int8 rewrite of a float32 ONNX transformer: what the ONNX backend runs on a CPU.

Every MatMul with a weight matrix becomes an integer MatMul (``MatMulInteger``):

- weights in int8, one scale per output column (per channel);
- activations in int8, one scale per token (per row), computed as the text runs, so a
  token's numbers never depend on another token's or another text's;
- before that, SmoothQuant (Xiao et al., 2023, arXiv 2211.10438): a few input channels of
  these layers carry values ten times larger than the rest (the same channels in every
  text), and a per-token scale sized for them would leave the others a handful of levels.
  Each input channel is divided by ``s = max|x| ** alpha / max|w| ** (1 - alpha)`` and the
  weight's row multiplied by it, which is the same product in exact arithmetic. ``max|x|``
  comes from running the float32 graph on :data:`CALIBRATION_PASSAGES` passages of the
  bundled corpus (fixed ones, so the export depends only on the model).

The feed-forward down-projections (1,536 inputs to 384) lose the most to int8, mostly in
their weights: the :data:`FLOAT_CHANNELS` inputs with the largest ``max|x| * max|w|`` stay
float32 there, in a small float product added to the int8 one. Inputs shared by several
MatMuls (the attention's query, key and value) are quantized once. The graph takes one text
per run (batch size 1): a row's scale is one per token of that text.

Measured on 400 passages against float32 PyTorch (mean cosine, passages per second on 2 cores;
rates from runs side by side): this 0.9993 at 92/s (then ~105/s with ``QuantizeLinear`` and
``DequantizeLinear`` doing the rows' scaling, bit for bit the vectors of dividing, rounding and
casting, which ran 86/s); without the float channels 0.9989 at 93/s; the recipe it replaced
(onnxruntime's dynamic quantization of the attention MatMuls only, one scale per tensor) 0.9989
at 61/s; onnxruntime's dynamic quantization of every MatMul 0.9936; float32 ONNX 56/s.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ALPHA = 0.7  # migration strength; 0.6 and 0.8 agreed less with float32 (0.9987, 0.9980)
CALIBRATION_PASSAGES = 128
FLOAT_CHANNELS = 32  # per down-projection; 16: mean cosine 0.9993, 64: 0.9994, none: 0.9989


def calibration_texts(count: int = CALIBRATION_PASSAGES) -> list[str]:
    """Evenly spaced passages of the bundled corpus: the same ones on every machine."""
    from cube import datasets

    texts = datasets.load("sotu")["text"].tolist()
    step = len(texts) / count
    return [texts[int(i * step)] for i in range(count)]


def _weighted_matmuls(graph) -> list:
    weights = {init.name: init for init in graph.initializer}
    return [
        node
        for node in graph.node
        if node.op_type == "MatMul"
        and node.input[1] in weights
        and len(weights[node.input[1]].dims) == 2
    ]


def activation_ranges(float_file: Path, feeds: list[dict], workers: int) -> dict[str, np.ndarray]:
    """Per input channel, the largest |value| entering each weighted MatMul over ``feeds``."""
    import onnx
    import onnxruntime

    model = onnx.load(str(float_file))
    inputs = sorted({node.input[0] for node in _weighted_matmuls(model.graph)})
    for name in inputs:
        model.graph.output.append(
            onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
        )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )

    def one(feed: dict) -> list[np.ndarray]:
        outputs = session.run(inputs, feed)
        return [np.abs(o.reshape(-1, o.shape[-1])).max(axis=0) for o in outputs]

    with ThreadPoolExecutor(workers) as pool:
        per_text = list(pool.map(one, feeds))
    return {name: np.max([t[i] for t in per_text], axis=0) for i, name in enumerate(inputs)}


def quantize(
    float_file: Path,
    ranges: dict[str, np.ndarray],
    out: Path,
    alpha: float = ALPHA,
    *,
    weights_type: str = "s8",
    weight_levels: int = 127,
    activation_levels: int = 127,
):
    """Write the int8 graph of ``float_file`` to ``out`` (see the module's docstring).

    The defaults are cube's recipe. ``weights_type="u8"`` stores each weight plus 128 as uint8
    with a zero point of 128: the same integers after the zero point, so the same products,
    but onnxruntime then multiplies uint8 by uint8, which every x86 path does in 16 or 32 bits
    without saturating (see :func:`pair_sum_bound`). ``weight_levels`` and
    ``activation_levels`` below 127 narrow the integer ranges (7 bits: 64 and 63).

    Example:
        >>> quantize(Path("float32.onnx"), ranges, Path("int8.onnx"), weights_type="u8")
    """
    import onnx
    from onnx import helper as make
    from onnx import numpy_helper

    model = onnx.load(str(float_file))
    graph = model.graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    groups: dict[str, list] = defaultdict(list)
    for node in _weighted_matmuls(graph):
        groups[node.input[0]].append(node)

    if weights_type not in ("s8", "u8"):
        raise ValueError(f"weights_type is 's8' or 'u8', not {weights_type!r}")
    if not (1 <= weight_levels <= 127 and 1 <= activation_levels <= 127):
        raise ValueError("weight_levels and activation_levels are between 1 and 127")
    constants = {
        # int8 values shifted into uint8 (by 64 with 7-bit activations: 1..127)
        "int8_zero_point": np.array(
            activation_levels + 1 if activation_levels < 64 else 128, np.uint8
        ),
        "int8_levels": np.array(float(activation_levels), np.float32),
        "int8_tiny": np.array(1e-8, np.float32),
        "int8_axes": np.array([0, -1], np.int64),
    }
    weight_zero = []
    if weights_type == "u8":
        constants["int8_weight_zero_point"] = np.array(128, np.uint8)
        weight_zero = ["int8_weight_zero_point"]
    replaced: dict[str, list] = {}
    for index, (x, members) in enumerate(groups.items()):
        p = f"int8_{index}"
        row_max = np.max([np.abs(weights[n.input[1]]).max(axis=1) for n in members], axis=0)
        smooth = np.maximum(ranges[x], 1e-5) ** alpha / np.maximum(row_max, 1e-5) ** (1 - alpha)
        smooth = np.clip(smooth, 1e-2, 1e2).astype(np.float32)
        width, height = weights[members[0].input[1]].shape
        kept = np.array([], dtype=np.int64)
        if len(members) == 1 and width > height:  # projects down: keep its loudest inputs float
            kept = np.sort(np.argsort(ranges[x] * row_max)[-FLOAT_CHANNELS:]).astype(np.int64)
        unsmooth = 1.0 / smooth
        unsmooth[kept] = 0.0  # the int8 product leaves them out; a float32 one adds them back
        constants[f"{p}_unsmooth"] = unsmooth.astype(np.float32)
        nodes = [
            make.make_node("Mul", [x, f"{p}_unsmooth"], [f"{p}_x"]),
            make.make_node("Abs", [f"{p}_x"], [f"{p}_abs"]),
            make.make_node("ReduceMax", [f"{p}_abs"], [f"{p}_max"], axes=[-1], keepdims=1),
            make.make_node("Max", [f"{p}_max", "int8_tiny"], [f"{p}_max1"]),
            make.make_node("Div", [f"{p}_max1", "int8_levels"], [f"{p}_scale"]),
            make.make_node("Squeeze", [f"{p}_scale", "int8_axes"], [f"{p}_row_scale"]),
            make.make_node("Shape", [f"{p}_row_scale"], [f"{p}_rows_shape"]),
            make.make_node("Expand", ["int8_zero_point", f"{p}_rows_shape"], [f"{p}_zero"]),
            make.make_node(
                "QuantizeLinear",
                [f"{p}_x", f"{p}_row_scale", f"{p}_zero"],
                [f"{p}_q"],
                axis=-2,
            ),
        ]
        for j, node in enumerate(members):
            q = f"{p}_{j}"
            weight = weights[node.input[1]].astype(np.float32)
            w = weight * smooth[:, None]
            w[kept] = 0.0
            column_scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / float(weight_levels)
            integers = np.clip(np.round(w / column_scale), -weight_levels, weight_levels)
            if weights_type == "u8":
                constants[f"{q}_w"] = (integers + 128).astype(np.uint8)
            else:
                constants[f"{q}_w"] = integers.astype(np.int8)
            constants[f"{q}_w_scale"] = column_scale.astype(np.float32)
            product = list(node.output) if not len(kept) else [f"{q}_int8_part"]
            nodes += [
                make.make_node(
                    "MatMulInteger",
                    [f"{p}_q", f"{q}_w", "int8_zero_point", *weight_zero],
                    [f"{q}_int"],
                ),
                make.make_node(
                    "DequantizeLinear", [f"{q}_int", f"{p}_row_scale"], [f"{q}_rows"], axis=-2
                ),
                make.make_node("Mul", [f"{q}_rows", f"{q}_w_scale"], product),
            ]
            if len(kept):
                constants[f"{q}_kept"] = kept
                constants[f"{q}_w_kept"] = weight[kept]
                nodes += [
                    make.make_node("Gather", [x, f"{q}_kept"], [f"{q}_x_kept"], axis=-1),
                    make.make_node("MatMul", [f"{q}_x_kept", f"{q}_w_kept"], [f"{q}_float_part"]),
                    make.make_node("Add", [product[0], f"{q}_float_part"], list(node.output)),
                ]
            replaced[node.name], nodes = nodes, []  # the first also quantizes the input
    new_nodes = [n for node in graph.node for n in replaced.get(node.name, [node])]
    del graph.node[:]
    graph.node.extend(new_nodes)
    used = {name for node in new_nodes for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in constants.items())
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


#: vpmaddubsw (x86 without VNNI, uint8 x int8) adds two products into a saturating int16.
PAIR_SUM_LIMIT = 32767


def pair_sum_bound(path: Path) -> int | None:
    """The largest |a·b + a'·b'| a uint8×int8 kernel can meet in the graph at ``path``.

    ``a`` and ``a'`` range over the activations' uint8 values (zero point ± levels), ``b`` and
    ``b'`` over any two weights of one output column (whatever pairs a kernel packs). At most
    :data:`PAIR_SUM_LIMIT`: no pair can saturate ``vpmaddubsw``, the graph is exact on AVX2.
    None when every integer product has uint8 weights (U8U8: 16-bit operands, 32-bit sums).

    Example:
        >>> pair_sum_bound(Path("int8-7bit-weights.onnx"))
        32640
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    bound = None
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        weight = values[node.input[1]]
        if weight.dtype == np.uint8:
            continue
        zero = int(values["int8_zero_point"])
        levels = int(values["int8_levels"])
        largest = min(255, zero + levels)  # activations: zero ± levels, in uint8
        two = np.sort(np.abs(weight.astype(np.int32)), axis=0)[-2:].sum(axis=0)
        bound = max(bound or 0, int(largest * two.max()))
    return bound


def as_uint8_weights(path: Path, out: Path) -> None:
    """Rewrite the int8 graph at ``path`` with its weights as uint8 (plus 128, zero point 128).

    The integers after the zero points are the same, so every product and sum is the same;
    onnxruntime then takes its uint8×uint8 kernels, exact on every x86 CPU (see
    :mod:`cube.embeddings._cpu`). What :func:`quantize` with ``weights_type="u8"`` writes,
    made from an existing export without the float32 graph.

    Example:
        >>> as_uint8_weights(Path("model.onnx"), Path("model-u8u8.onnx"))
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    zero = "int8_weight_zero_point"
    for node in graph.node:
        if node.op_type != "MatMulInteger" or len(node.input) > 3:
            continue
        init = initializers[node.input[1]]
        weight = numpy_helper.to_array(init)
        if weight.dtype == np.int8:
            init.CopyFrom(
                numpy_helper.from_array((weight.astype(np.int16) + 128).astype(np.uint8), init.name)
            )
        node.input.append(zero)
    if zero not in initializers:
        graph.initializer.append(numpy_helper.from_array(np.array(128, np.uint8), zero))
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
