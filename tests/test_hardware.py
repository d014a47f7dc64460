"""``dtype_policy: auto`` and an explicit policy on each kind of machine (``digits.runtime.hardware``): which precision
a model trains in, the one line saying why, and a train stage that picks float32 under an AVX2 cap instead of dying
in oneDNN."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from digits.runtime import hardware

ROOT = Path(__file__).resolve().parents[1]
AVX2 = frozenset("fpu sse2 avx avx2 fma".split())
AVX512_BF16 = AVX2 | {"avx512f", "avx512_bf16"}
AMX = AVX512_BF16 | {"amx_tile", "amx_bf16"}


def machine(flags=AVX512_BF16, cap="", onednn=True, gpus=()) -> hardware.Machine:
    return hardware.Machine(frozenset(flags), cap, onednn, tuple(gpus))


@pytest.mark.parametrize("case, expected, words", [
    (machine(AVX512_BF16), "mixed_bfloat16", "this CPU has avx512_bf16"),
    (machine(AMX), "mixed_bfloat16", "avx512_bf16 and amx_bf16"),
    (machine(AVX2), "float32", "no bf16 instructions"),
    (machine(AVX512_BF16 - {"avx512_bf16"}), "float32", "no bf16 instructions"),
    (machine(AVX512_BF16, cap="AVX2"), "float32", "ONEDNN_MAX_CPU_ISA=AVX2"),
    (machine(AVX512_BF16, cap="AVX512_CORE_VNNI"), "float32", "ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI"),
    (machine(AMX, cap="AVX512_CORE_BF16"), "mixed_bfloat16", "this CPU has"),
    (machine(AMX, cap="ALL"), "mixed_bfloat16", "this CPU has"),
    (machine(AVX512_BF16, cap="NOT_AN_ISA"), "float32", "ONEDNN_MAX_CPU_ISA=NOT_AN_ISA"),
    (machine(AVX512_BF16, onednn=False), "float32", "TF_ENABLE_ONEDNN_OPTS=0"),
    (machine(AVX2, gpus=[(9, 0)]), "float32", "on a GPU"),
    (machine(AMX, gpus=[(7, 5)]), "float32", "on a GPU"),
])
def test_auto_picks_bf16_only_where_it_pays(case, expected, words):
    policy, line = hardware.choose("cnn", "auto", case)
    assert policy == expected
    assert line.startswith(f"train: cnn: precision {expected} (train.cnn.dtype_policy auto: ") and words in line
    assert "\n" not in line


def test_auto_keeps_a_model_without_convolutions_in_float32():
    policy, line = hardware.choose("dense", "auto", machine(AMX), convolutional=False)
    assert policy == "float32" and "this CPU has avx512_bf16 and amx_bf16, but bf16 pays for convolutions" in line
    assert hardware.choose("dense", "mixed_bfloat16", machine(AMX), convolutional=False)[0] == "mixed_bfloat16"


def test_an_explicit_policy_wins():
    assert hardware.choose("dense", "float32", machine(AMX)) == \
        ("float32", "train: dense: precision float32 (set by train.dense.dtype_policy)")
    assert hardware.choose("cnn", "mixed_float16", machine(AVX2))[0] == "mixed_float16"


def test_emulated_bf16_is_kept_but_warned_naming_the_fix():
    policy, line = hardware.choose("cnn", "mixed_bfloat16", machine(AVX2))
    assert policy == "mixed_bfloat16"
    assert "warning: this CPU has no bf16 instructions" in line and "set it to auto" in line
    assert "warning" not in hardware.choose("cnn", "mixed_bfloat16", machine(AVX512_BF16))[1]


def test_bf16_under_a_cap_where_onednn_cannot_build_it_is_refused():
    with pytest.raises(ValueError, match=r"^train.cnn.dtype_policy: mixed_bfloat16 cannot run under "
                                         r"ONEDNN_MAX_CPU_ISA=AVX2 .*set it to auto or float32"):
        hardware.choose("cnn", "mixed_bfloat16", machine(AVX512_BF16, cap="AVX2"))
    # From AVX512_CORE up, oneDNN builds bf16 kernels (slowly): kept, with the warning.
    assert "warning" in hardware.choose("cnn", "mixed_bfloat16", machine(AVX512_BF16, cap="AVX512_CORE"))[1]


def test_this_machine_reads_the_environment(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", " avx2 ")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "false")
    found = hardware.this_machine()
    assert found.isa_cap == "AVX2" and not found.onednn
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    found = hardware.this_machine()
    assert found.isa_cap == "" and found.onednn
    assert found.cpu_flags == frozenset(hardware.cpu_flags().split())


@pytest.mark.slow
def test_train_under_an_avx2_cap_chooses_float32_and_runs(prepared_copy):
    """What a CPU without AVX-512 runs: default params (auto), oneDNN capped at AVX2. bf16 would abort there
    ("could not create a primitive descriptor"); auto must pick float32, say so, and train."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ONEDNN_MAX_CPU_ISA": "AVX2"}
    done = subprocess.run([sys.executable, "-m", "stages.train", "dense"], cwd=prepared_copy, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "train: dense: precision float32 (train.dense.dtype_policy auto: ONEDNN_MAX_CPU_ISA=AVX2 " in done.stdout
    assert (prepared_copy / "artifacts" / "models" / "dense.keras").is_file()


def train_cnn(project: Path, cores: set[int] | None = None, isa: str | None = None) -> bytes:
    """``train@cnn`` in its own process, on ``cores`` only (all when None), under ONEDNN_MAX_CPU_ISA ``isa`` (unset
    when None); the saved model's bytes."""
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    done = subprocess.run([sys.executable, "-m", "stages.train", "cnn"], cwd=project, capture_output=True,
                          text=True,
                          env={**env, "PYTHONPATH": str(ROOT), **({"ONEDNN_MAX_CPU_ISA": isa} if isa else {})},
                          timeout=300,
                          preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None)
    assert done.returncode == 0, done.stderr[-2000:]
    return (project / "artifacts" / "models" / "cnn.keras").read_bytes()


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to take one away")
def test_pinned_threads_and_isa_give_the_same_bytes_on_fewer_cores_and_on_amx(prepared_project, tmp_path):
    """``train.<model>.threads`` fixes how sums are split between threads, so a machine with fewer (or more) cores
    gets the same model, byte for byte: here all this process's cores against one of them. The second run sets
    by hand the oneDNN cap the stage sets itself (``hardware.pin_isa``): the same bytes again. On a CPU with AMX
    that cap is what makes AMX and AVX-512 BF16 CPUs agree: there a third run, AMX allowed, must differ."""
    from conftest import copy_of

    everywhere = train_cnn(copy_of(prepared_project, tmp_path / "all"))
    one_core = train_cnn(copy_of(prepared_project, tmp_path / "one"), {min(os.sched_getaffinity(0))},
                         isa=hardware.SAME_BYTES_ISA)
    assert everywhere == one_core
    if "amx_bf16" in hardware.cpu_flags().split():
        assert everywhere != train_cnn(copy_of(prepared_project, tmp_path / "amx"), isa="ALL")


def test_stages_cap_onednn_for_the_same_bytes_unless_the_user_did():
    env: dict = {}
    assert hardware.pin_isa(env) == "AVX512_CORE_BF16" == env["ONEDNN_MAX_CPU_ISA"]
    mine = {"ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert hardware.pin_isa(mine) == "AVX2"
    policy, line = hardware.choose("cnn", "auto", machine(AMX, cap=hardware.SAME_BYTES_ISA))
    assert policy == "mixed_bfloat16" and "AMX left out by ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16" in line
