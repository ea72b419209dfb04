"""The int8 path chosen from CPU features, and why each path's integer products are exact.

The choice is a pure function of the features, tested here for CPUs this machine is not. Where
Linux can make CPUID fault (the cpuinfo flag ``cpuid_fault``), ``bench/avx2_cpu.c`` makes a
process see an AVX2 CPU without AVX-512 or VNNI, and onnxruntime then runs the kernels such a
CPU runs: the tests show the uint8×int8 kernel saturating there and the uint8×uint8 one not.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cube.embeddings import _cpu

ROOT = Path(__file__).resolve().parents[1]
HASWELL = {"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"}
SKYLAKE_SP = HASWELL | {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"}
CASCADE_LAKE = SKYLAKE_SP | {"avx512_vnni"}
ZEN4 = CASCADE_LAKE | {"avx512_bf16", "avx512vbmi", "avx512_vpopcntdq"}
ALDER_LAKE = HASWELL | {"avx_vnni"}  # AVX-VNNI, no AVX-512


@pytest.mark.parametrize(
    ("flags", "machine", "path"),
    [
        (ZEN4, "x86_64", "vnni"),
        (CASCADE_LAKE, "x86_64", "vnni"),
        (ALDER_LAKE, "x86_64", "vnni"),
        (CASCADE_LAKE | {"amx_int8", "amx_tile"}, "x86_64", "vnni"),
        (HASWELL, "x86_64", "avx2-u8u8"),  # most laptops of 2015-2020, AMD before Zen 4
        (SKYLAKE_SP, "x86_64", "avx2-u8u8"),  # AVX-512 without VNNI saturates too
        # MLAS's VNNI kernel needs AVX-512 BW/DQ/VL as well: without them, AVX2's kernel
        ({"avx2", "fma", "avx512f", "avx512_vnni"}, "x86_64", "avx2-u8u8"),
        (HASWELL - {"fma"}, "x86_64", None),  # MLAS's AVX2 kernels need FMA3 too
        ({"sse4_2", "avx"}, "x86_64", None),  # Sandy Bridge: SSE kernels, stay in float32
        (HASWELL, "AMD64", "avx2-u8u8"),  # Windows spells it so
        (set(), "aarch64", "arm"),
        (set(), "arm64", "arm"),
        (HASWELL, "ppc64le", None),
    ],
)
def test_the_path_follows_the_features(flags, machine, path):
    assert _cpu.int8_path(flags, machine) == path
    assert path is None or path in _cpu.KERNELS


def test_this_process_reads_its_features_as_cpuid_reports_them():
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        pytest.skip("x86 only")
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as features

    flags = _cpu.cpu_flags()
    assert ("avx2" in flags) == features["AVX2"]
    assert ("avx512_vnni" in flags) == features["AVX512VNNI"]


def test_the_bound_says_which_int8_graphs_no_pair_can_saturate(tmp_path):
    """The saturation bound of cube's recipe, its 7-bit variants and its uint8 twin."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, numpy_helper
    from onnx import helper as make

    from cube.embeddings import _int8

    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 16)).astype(np.float32)
    graph = make.make_graph(
        [make.make_node("MatMul", ["x", "w"], ["y"], name="projection")],
        "one",
        [make.make_tensor_value_info("x", TensorProto.FLOAT, [1, None, 64])],
        [make.make_tensor_value_info("y", TensorProto.FLOAT, [1, None, 16])],
        [numpy_helper.from_array(w, "w")],
    )
    model = make.make_model(graph, opset_imports=[make.make_opsetid("", 17)])
    onnx.save(model, str(tmp_path / "float.onnx"))
    ranges = {"x": np.ones(64, np.float32)}

    def bound(**options):
        out = tmp_path / "int8.onnx"
        _int8.quantize(tmp_path / "float.onnx", ranges, out, **options)
        return _int8.pair_sum_bound(out)

    assert bound() > _int8.PAIR_SUM_LIMIT  # cube's recipe: full int8, can saturate vpmaddubsw
    assert _int8.PAIR_SUM_LIMIT - 1000 < bound(weight_levels=64) <= 255 * 128
    assert _int8.PAIR_SUM_LIMIT - 1000 < bound(activation_levels=63) <= 127 * 254
    assert bound(weights_type="u8") is None  # uint8 x uint8: no 16-bit pair sums


def _run_as_avx2_cpu(tmp_path: Path, code: str) -> str:
    """``code`` in a Python process whose CPUID shows no AVX-512, VNNI or AMX."""
    if platform.machine().lower() not in {"x86_64", "amd64"} or shutil.which("gcc") is None:
        pytest.skip("needs x86-64 and gcc")
    if "cpuid_fault" not in Path("/proc/cpuinfo").read_text():
        pytest.skip("this kernel or CPU cannot make CPUID fault")
    library = tmp_path / "avx2_cpu.so"
    source = ROOT / "bench" / "avx2_cpu.c"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", library, source], check=True)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "LD_PRELOAD": str(library)},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return done.stdout.strip()


PAIRS = """
import numpy as np, onnxruntime
from onnx import TensorProto, helper as make, numpy_helper
from cube.embeddings import _cpu

def product(weights):
    inputs = ["a", "w"] if weights.dtype == np.int8 else ["a", "w", "za", "zw"]
    constants = [numpy_helper.from_array(weights, "w"),
                 numpy_helper.from_array(np.array(0, np.uint8), "za"),
                 numpy_helper.from_array(np.array(128, np.uint8), "zw")][: len(inputs) - 1]
    graph = make.make_graph([make.make_node("MatMulInteger", inputs, ["c"])], "g",
        [make.make_tensor_value_info("a", TensorProto.UINT8, [None, 64])],
        [make.make_tensor_value_info("c", TensorProto.INT32, None)], constants)
    model = make.make_model(graph, opset_imports=[make.make_opsetid("", 17)])
    model.ir_version = 8
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    return int(session.run(None, {"a": np.full((8, 64), 255, np.uint8)})[0][0, 0])

# 255 x 127 over 64 inputs, as uint8 x int8 and as uint8 x (uint8 - 128)
print(_cpu.this_int8_path(), product(np.full((64, 16), 127, np.int8)),
      product(np.full((64, 16), 255, np.uint8)))
"""


def test_without_vnni_uint8_by_int8_saturates_and_uint8_by_uint8_does_not(tmp_path):
    pytest.importorskip("onnxruntime")
    path, signed, unsigned = _run_as_avx2_cpu(tmp_path, PAIRS).split()
    assert path == "avx2-u8u8"  # the process sees an AVX2 CPU, and cube knows it
    assert signed == str(32 * 32767)  # 32 pairs of 255·127 + 255·127, each cut at 32,767
    assert unsigned == str(64 * 255 * 127)  # exact


def _export_and_twin(tmp_path: Path) -> tuple[Path, Path]:
    """cube's int8 export of the default model, and the same graph with uint8 weights."""
    from cube._config import DEFAULT_MODEL
    from cube.embeddings import _int8, _onnx, resolve_model

    if _onnx.installed() is None:
        pytest.skip("onnxruntime is not installed")
    model = resolve_model(DEFAULT_MODEL)
    export, _ = _onnx.exported_model(model.path, model.fingerprint)
    twin = tmp_path / "u8u8.onnx"
    _int8.as_uint8_weights(export, twin)
    return export, twin


@pytest.mark.model
def test_the_uint8_twin_of_the_export_has_the_same_products_and_cannot_saturate(tmp_path, passages):
    import onnx
    import onnxruntime

    from cube.embeddings import _int8, _onnx, resolve_model

    export, twin = _export_and_twin(tmp_path)
    assert _int8.pair_sum_bound(export) > _int8.PAIR_SUM_LIMIT  # needs VNNI (or ARM)
    assert _int8.pair_sum_bound(twin) is None
    weights = {i.name: i for i in onnx.load(str(twin)).graph.initializer}
    products = [n for n in onnx.load(str(twin)).graph.node if n.op_type == "MatMulInteger"]
    assert len(products) == 36
    for node in products:  # uint8 x uint8; the largest sum 1,536 x 255 x 255 fits in int32
        assert weights[node.input[1]].data_type == onnx.TensorProto.UINT8
        assert weights[node.input[1]].dims[0] * 255 * 255 < 2**31
    if _cpu.this_int8_path() not in ("vnni", "arm"):
        pytest.skip("cube's own graph is not exact on this CPU: nothing to compare with")
    model = resolve_model("all-MiniLM-L6-v2")
    tokenizer = _onnx.Tokenizer(model.path, _onnx.layout(model.path))
    sessions = [
        onnxruntime.InferenceSession(str(p), providers=["CPUExecutionProvider"])
        for p in (export, twin)
    ]
    for text in passages[:20]:
        signed, unsigned = (s.run(None, tokenizer.one(text))[0] for s in sessions)
        assert np.array_equal(signed, unsigned)  # the same integers: the same bytes


AVX2_ENCODER = """
import sys
import numpy as np
from cube.embeddings import _onnx, resolve_model
from cube import datasets

graph, out = sys.argv[1], sys.argv[2]
model = resolve_model("all-MiniLM-L6-v2")
texts = datasets.load("sotu", sample=40, seed=5)["text"].tolist()
probe = texts[0]

def encoder(batch):
    return _onnx.OnnxEncoder(batch, graph, "twin", model.path, _onnx.layout(model.path),
        max_seq_length=None, prompt=None, truncate_dim=None, normalize=False, threads=2)

seen = set()
for k in range(24):  # the probe among other companions, at other places
    batch = texts[1 + k : 1 + k + k % 7]
    batch.insert(k % (len(batch) + 1), probe)
    vectors = encoder(batch).encode(np.arange(len(batch)))
    seen.add(vectors[batch.index(probe)].tobytes())
np.save(out, encoder(texts).encode(np.arange(len(texts))))
print(len(seen))
"""


@pytest.mark.model
def test_on_a_cpu_without_vnni_the_twin_is_batch_independent_and_agrees(tmp_path):
    from cube import datasets
    from cube.embeddings import _onnx, resolve_model

    export, twin = _export_and_twin(tmp_path)
    script = tmp_path / "encode.py"
    script.write_text(AVX2_ENCODER)
    out = tmp_path / "avx2.npy"
    code = f"import runpy, sys; sys.argv = ['', {str(twin)!r}, {str(out)!r}]; "
    code += f"runpy.run_path({str(script)!r}, run_name='__main__')"
    assert _run_as_avx2_cpu(tmp_path, code) == "1"  # one vector in 24 compositions
    if _cpu.this_int8_path() not in ("vnni", "arm"):
        return  # cube's own graph is not exact here: nothing to compare with
    avx2 = np.load(out)
    model = resolve_model("all-MiniLM-L6-v2")
    texts = datasets.load("sotu", sample=40, seed=5)["text"].tolist()
    encoder = _onnx.OnnxEncoder(
        texts,
        export,
        "export",
        model.path,
        _onnx.layout(model.path),
        max_seq_length=None,
        prompt=None,
        truncate_dim=None,
        normalize=False,
    )
    here = encoder.encode(np.arange(len(texts)))
    # The integer products are exact on both paths; float32 kernels (AVX2 there, AVX-512
    # here) round differently in the layers around them.
    cosine = (avx2 * here).sum(axis=1)
    assert cosine.min() > 0.999  # measured on 2,000 texts: min 0.99962, mean 0.99996
