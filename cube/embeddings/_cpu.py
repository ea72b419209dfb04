"""Which int8 path this CPU runs exactly in onnxruntime, from its features.

onnxruntime's matrix library (MLAS) picks its integer kernels by CPUID when it loads
(``onnxruntime/core/mlas/lib/platform.cpp``). For uint8 activations by int8 weights (U8S8):

- x86 with AVX512-VNNI (and AVX512 F/BW/DQ/VL) or AVX-VNNI: ``vpdpbusd``, four products summed
  into 32 bits: exact;
- x86 with AVX2 and FMA3 but no VNNI (also AVX-512 without VNNI): ``vpmaddubsw``, which adds
  two uint8×int8 products into 16 bits and saturates at 32,767: a pair 255·127 + 255·127 =
  64,770 comes out as 32,767. Exact only if every pair stays within it (7-bit weights or
  activations);
- ARM64: widening multiplies or UDOT/UMMLA, 32-bit sums: exact.

For uint8 by uint8 (U8U8) every x86 kernel is exact: AVX2 and AVX-512 without VNNI-INT8
zero-extend both operands to 16 bits and multiply with ``vpmaddwd`` (int16 × int16 pairs summed
into 32 bits; 255·255·2 = 130,050 fits), AVX-VNNI-INT8 uses ``vpdpbuud`` (32-bit sums). cube's
weights stored as uint8 with a zero point of 128 are the same integers, so the U8U8 graph gives
the U8S8 graph's integer products exactly, on any of these CPUs.

:func:`int8_path` is a pure function of the features, so the choice is testable for any CPU;
:func:`cpu_flags` reads this process's features (as CPUID reports them to it, the way MLAS reads
them: a CPUID mask such as ``bench/avx2_cpu.c`` changes both alike).
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterable
from pathlib import Path

#: numpy's runtime feature names → the kernel's /proc/cpuinfo names.
_NUMPY_NAMES = {
    "AVX2": "avx2",
    "FMA3": "fma",
    "AVX512F": "avx512f",
    "AVX512BW": "avx512bw",
    "AVX512DQ": "avx512dq",
    "AVX512VL": "avx512vl",
    "AVX512VNNI": "avx512_vnni",
}
_AVX512_VNNI = {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"}
_X86 = {"x86_64", "amd64", "i386", "i686", "x86"}
_ARM64 = {"aarch64", "arm64", "armv8", "armv8l"}

#: What each path multiplies with, for ``cube doctor`` and the benchmarks.
KERNELS = {
    "vnni": "uint8 x int8, VNNI (32-bit sums)",
    "arm": "uint8 x int8, ARM64 (32-bit sums)",
    "avx2-u8u8": "uint8 x uint8, AVX2 vpmaddwd (16-bit operands, 32-bit sums)",
}


def int8_path(flags: Iterable[str], machine: str = "x86_64") -> str | None:
    """The exact int8 path for a CPU with these features, or None (stay in float32).

    ``flags`` are /proc/cpuinfo names (``avx2``, ``fma``, ``avx512_vnni``, ``avx_vnni`` ...);
    ``machine`` is :func:`platform.machine`'s answer. ``"vnni"`` and ``"arm"`` run cube's
    uint8×int8 graph, ``"avx2-u8u8"`` the same graph with uint8 weights.

    Example:
        >>> int8_path({"avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"})
        'vnni'
        >>> int8_path({"avx2", "fma"})
        'avx2-u8u8'
        >>> int8_path({"sse4_2"}) is None
        True
    """
    machine = machine.lower()
    if machine in _ARM64:
        return "arm"
    if machine not in _X86:
        return None
    have = set(flags)
    if not {"avx2", "fma"} <= have:
        return None  # MLAS's SSE kernels: exact for uint8 x uint8, but no faster than PyTorch
    if "avx_vnni" in have or have >= _AVX512_VNNI:
        return "vnni"
    return "avx2-u8u8"


def cpu_flags() -> set[str]:
    """This process's CPU features in /proc/cpuinfo's names.

    /proc/cpuinfo's list, with the features numpy reads from CPUID (checked against the OS's
    saved state) taking precedence: they are what MLAS sees in this process.

    Example:
        >>> "avx2" in cpu_flags()
        True
    """
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    line = next((x for x in text.splitlines() if x.startswith(("flags", "Features"))), "")
    flags = set(line.partition(":")[2].split())
    with contextlib.suppress(ImportError, AttributeError):
        try:
            from numpy._core._multiarray_umath import __cpu_features__ as features
        except ImportError:  # numpy < 2
            from numpy.core._multiarray_umath import __cpu_features__ as features
        for key, name in _NUMPY_NAMES.items():
            if key in features:
                (flags.add if features[key] else flags.discard)(name)
    return flags


def this_int8_path() -> str | None:
    """:func:`int8_path` for this process's CPU.

    Example:
        >>> this_int8_path()
        'vnni'
    """
    return int8_path(cpu_flags(), platform.machine())
