"""What a model trains with on this machine: its precision (``train.<model>.dtype_policy``) and its threads
(``train.<model>.threads``).

``auto`` picks ``mixed_bfloat16`` only where it pays: for a model with convolutions, on a CPU with bf16 instructions
(``avx512_bf16`` or ``amx_bf16``) that oneDNN may use; elsewhere ``float32``. The dense net's small matrix products
gained little from bf16 and lost accuracy in every setting tried (docs/results.md). A CPU without them emulates bf16,
8 to 12 times slower than float32 (docs/results.md); on a GPU these small models gained nothing from it (an H100:
docs/pipeline.md).
``ONEDNN_MAX_CPU_ISA`` below ``AVX512_CORE_BF16`` is honoured as the user's word on which instructions may run
(under it TensorFlow still sends bf16 work to oneDNN, which then cannot build it), and ``TF_ENABLE_ONEDNN_OPTS=0``
leaves bf16 to slow Eigen kernels.
:func:`choose` is pure: the facts of the machine come in as a :class:`Machine`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# oneDNN's names for ONEDNN_MAX_CPU_ISA, lowest first; DEFAULT and ALL set no cap. From AVX512_CORE_BF16 on, a
# level includes bf16 instructions; below AVX512_CORE oneDNN cannot build bf16 primitives at all.
ONEDNN_ISAS = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI",
               "AVX512_CORE_BF16", "AVX10_1_512", "AVX512_CORE_FP16", "AVX10_1_512_AMX", "AVX512_CORE_AMX",
               "AVX10_1_512_AMX_FP16", "AVX512_CORE_AMX_FP16", "DEFAULT", "ALL")
BF16_ISA = ONEDNN_ISAS.index("AVX512_CORE_BF16")
# The cap every stage runs under unless the user sets one (``pin_isa``). On a CPU with AMX, oneDNN computes bf16
# convolutions on its tile units, whose sums round otherwise than AVX-512 BF16's: a fresh clone's CNN there came
# out with other bytes (test accuracy 99.52% against the committed 99.53%). Capped here, an AMX CPU computes as an
# AVX-512 BF16 one does, and a clone's `dvc repro` gave back the committed bytes (docs/pipeline.md). A cap
# above a CPU's own instructions changes nothing, so AVX2 and AVX-512 BF16 CPUs run exactly as before.
SAME_BYTES_ISA = "AVX512_CORE_BF16"
NO_BF16_PRIMITIVES = ONEDNN_ISAS.index("AVX512_CORE")


@dataclass(frozen=True)
class Machine:
    cpu_flags: frozenset[str]
    isa_cap: str  # ONEDNN_MAX_CPU_ISA as set, upper case; "" when unset
    onednn: bool  # TensorFlow's oneDNN custom ops on (TF_ENABLE_ONEDNN_OPTS not 0)
    gpus: tuple[tuple[int, int], ...]  # compute capability of each GPU


def isa_level(cap: str) -> int:
    """The cap's rank in :data:`ONEDNN_ISAS`; an unset cap is no cap, an unknown one the lowest (never crashes)."""
    if not cap:
        return len(ONEDNN_ISAS) - 1
    return ONEDNN_ISAS.index(cap) if cap in ONEDNN_ISAS else 0


def native_bf16(machine: Machine) -> tuple[bool, str]:
    """Whether bf16 runs natively here and pays, and the reason in a few words."""
    if machine.gpus:
        # Measured on an H100 (bf16 tensor cores): float32 trained both models as fast or faster, the compile of
        # the bf16 graph costing more than it saved. A GPU of another size may differ: set bf16 explicitly there.
        return False, "on a GPU these models train as fast in float32 (docs/pipeline.md)"
    found = [flag for flag in BF16_FLAGS if flag in machine.cpu_flags]
    if not found:
        return False, "this CPU has no bf16 instructions (" + ", ".join(BF16_FLAGS) + ")"
    if isa_level(machine.isa_cap) < BF16_ISA:
        return False, f"ONEDNN_MAX_CPU_ISA={machine.isa_cap} keeps oneDNN from this CPU's bf16 instructions"
    if not machine.onednn:
        return False, "TF_ENABLE_ONEDNN_OPTS=0 leaves bf16 to TensorFlow's slow Eigen kernels"
    if "amx_bf16" in found and machine.isa_cap == SAME_BYTES_ISA:
        return True, (f"this CPU has {' and '.join(found)}; its AMX left out by ONEDNN_MAX_CPU_ISA={SAME_BYTES_ISA}, "
                      "for the bytes AVX-512 BF16 CPUs give")
    return True, "this CPU has " + " and ".join(found)


def choose(name: str, policy: str, machine: Machine, convolutional: bool = True) -> tuple[str, str]:
    """(the Keras dtype policy model ``name`` trains in, one line saying which and why). An explicit policy wins,
    with a warning where it is slow here; ValueError where it cannot run at all."""
    native, why = native_bf16(machine)
    key = f"train.{name}.dtype_policy"
    if policy == "auto":
        if native and not convolutional:
            native, why = False, f"{why}, but bf16 pays for convolutions, and this model has none (docs/results.md)"
        chosen = "mixed_bfloat16" if native else "float32"
        return chosen, f"train: {name}: precision {chosen} ({key} auto: {why})"
    line = f"train: {name}: precision {policy} (set by {key})"
    if policy == "mixed_bfloat16" and not native:
        if not machine.gpus and machine.onednn and isa_level(machine.isa_cap) < NO_BF16_PRIMITIVES:
            raise ValueError(f"{key}: mixed_bfloat16 cannot run under ONEDNN_MAX_CPU_ISA={machine.isa_cap} "
                             "(oneDNN builds no bf16 kernels below AVX512_CORE); set it to auto or float32, or "
                             "unset ONEDNN_MAX_CPU_ISA")
        line += f"; warning: {why}, so bf16 is emulated, several times slower than float32: set it to auto"
    return policy, line


def this_machine() -> Machine:
    """The facts :func:`choose` needs, read from /proc/cpuinfo, the environment and TensorFlow's GPU list."""
    import tensorflow as tf

    gpus = []
    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        gpus.append(tuple(capability) if capability else (0, 0))
    return Machine(frozenset(cpu_flags().split()), os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper(),
                   os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower() not in ("0", "false"), tuple(gpus))


def cpu_flags() -> str:
    """The CPU's feature flags as Linux lists them; empty elsewhere (no bf16 is assumed then)."""
    return cpu_info("flags")


def cpu_info(field: str) -> str:
    """One field of the first CPU in /proc/cpuinfo (``flags``, ``model name``); empty where there is none."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.split(":")[0].strip() == field), "")
    except OSError:
        return ""


def pin_isa(environ: dict | None = None) -> str:
    """Cap oneDNN at :data:`SAME_BYTES_ISA` unless ``ONEDNN_MAX_CPU_ISA`` is set already (the user's word wins);
    oneDNN reads it at TensorFlow's first op, so call it before any (an ``import tensorflow`` before is fine,
    measured). Returns the cap in force."""
    environ = os.environ if environ is None else environ
    environ.setdefault("ONEDNN_MAX_CPU_ISA", SAME_BYTES_ISA)
    return environ["ONEDNN_MAX_CPU_ISA"]


def pin_threads(threads: int) -> str:
    """Run TensorFlow's ops on ``threads`` threads (0: one per core, TensorFlow's default); call it before any other
    TensorFlow work. How a sum is split between threads decides the last bits of its result, so a pinned count gives
    the same bytes on a machine with any number of cores (docs/pipeline.md). Returns a few words for the log."""
    import tensorflow as tf

    if not threads:
        return f"{os.cpu_count()} threads (one per core)"
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already running in this process (tests, benchmarks): its count stands
        return f"{tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()} threads (already set)"
    return f"{threads} thread{'s' * (threads != 1)}"
