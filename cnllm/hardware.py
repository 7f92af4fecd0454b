"""Which device and number format to use, how much memory a model needs, and what fits.

The estimates are deliberately simple and stated: weights = parameters x bytes per
parameter; KV cache = bytes per token (from the model's config) x context x batch;
plus a runtime margin (10 % of the weights + 0.5 GiB) for activations, CUDA context
and fragmentation. They are for planning, not for a guarantee.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from . import catalog
from .errors import FriendlyError

GIB = 1024**3

# bytes per parameter of each weight format (GGUF k-quants carry their scales)
BYTES_PER_PARAM = {
    "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0,
    "q8_0": 1.0625, "int4": 0.5, "q4_k_m": 0.606, "awq-int4": 0.53,
}

# Nominal memory of common accelerators (GiB) — the planner's menu.
GPUS = {
    "T4 16GB (Colab free)": 15.0,
    "L4 24GB": 22.5,
    "RTX 4090 24GB": 24.0,
    "A100 40GB": 40.0,
    "A100 80GB": 80.0,
    "H100 80GB": 80.0,
    "H200 141GB": 139.0,
    "B200 192GB": 180.0,
    "MI300X 192GB": 192.0,
}
USABLE_FRACTION = 0.90  # leave room for the runtime on each GPU


class NotEnoughMemory(FriendlyError):
    """The chosen model does not fit; the message names one that does."""


# ------------------------------------------------------------- device, dtype ---

def pick_device() -> str:
    """'cuda' when an NVIDIA/AMD GPU is usable, then Apple's 'mps', else 'cpu'."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str | None = None):
    """bf16 where the hardware handles it (CUDA with bf16, CPUs), fp16 on older GPUs and MPS.

    On CPUs bf16 halves the bytes read per token, and decoding is memory-bound, so it is
    faster than fp32 even without native bf16 instructions (see the fast-CPU chapter).
    """
    import torch

    device = device or pick_device()
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.bfloat16


# ------------------------------------------------------------------ memory ---

@dataclass(frozen=True)
class Estimate:
    model_id: str
    dtype: str
    context: int
    weights_gib: float
    kv_cache_gib: float
    overhead_gib: float
    kv_estimated: bool = True  # False when the catalog has no config for the model

    @property
    def total_gib(self) -> float:
        return self.weights_gib + self.kv_cache_gib + self.overhead_gib

    def __str__(self) -> str:
        kv = f"KV cache {self.kv_cache_gib:.1f}" if self.kv_estimated else "KV cache not estimated"
        return (f"{self.model_id} at {self.dtype}, {self.context:,} tokens of context: "
                f"{self.total_gib:.1f} GiB (weights {self.weights_gib:.1f} + {kv} + runtime {self.overhead_gib:.1f})")


def _as_model(model) -> catalog.Model:
    return catalog.find_model(model) if isinstance(model, str) else model


def kv_bytes_per_token(config, bytes_per_value: float = 2.0) -> float:
    """KV-cache bytes one token adds, from a catalog ModelConfig or a transformers config.

    Standard attention keeps K and V for every KV head of every layer; multi-head latent
    attention (DeepSeek-style, `kv_lora_rank`) keeps one compressed vector per layer;
    hybrid models keep a cache only in their full-attention layers.
    """
    get = (lambda k: getattr(config, k, None))
    layers = get("full_attention_layers") or get("num_hidden_layers")
    layer_types = get("layer_types")
    if layer_types and not get("full_attention_layers"):
        layers = sum(1 for t in layer_types if "full" in str(t) or t == "attention") or layers
    if get("kv_lora_rank"):
        return layers * (get("kv_lora_rank") + (get("qk_rope_head_dim") or 64)) * bytes_per_value
    heads = get("num_key_value_heads") or get("num_attention_heads")
    head_dim = get("head_dim") or get("hidden_size") // get("num_attention_heads")
    return 2 * layers * heads * head_dim * bytes_per_value


def memory_needed(model, dtype: str = "bf16", context: int = 4096, batch: int = 1,
                  kv_dtype: str = "bf16") -> Estimate:
    """Memory to serve `model` (catalog id or entry) at `dtype` with `context` tokens."""
    m = _as_model(model)
    if dtype not in BYTES_PER_PARAM:
        raise FriendlyError(f"Unknown weight format {dtype!r}; choose one of {sorted(BYTES_PER_PARAM)}.")
    weights = m.params_b * 1e9 * BYTES_PER_PARAM[dtype] / GIB
    kv = 0.0
    if m.config is not None:
        kv = kv_bytes_per_token(m.config, BYTES_PER_PARAM.get(kv_dtype, 2.0)) * context * batch / GIB
    overhead = 0.1 * weights + 0.5
    return Estimate(m.id, dtype, context, round(weights, 2), round(kv, 2), round(overhead, 2), m.config is not None)


# ----------------------------------------------------------------- machine ---

@dataclass(frozen=True)
class Machine:
    device: str
    name: str
    memory_gib: float

    def __str__(self) -> str:
        return f"{self.name} ({self.device}, {self.memory_gib:.0f} GiB usable for a model)"


def _ram_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        return 8.0


def this_machine() -> Machine:
    """The accelerator (or CPU RAM) a model would load into here."""
    device = pick_device()
    if device == "cuda":
        import torch

        props = torch.cuda.get_device_properties(0)
        return Machine("cuda", props.name, props.total_memory / GIB * USABLE_FRACTION)
    if device == "mps":
        return Machine("mps", "Apple silicon (unified memory)", _ram_gib() * 0.66)
    return Machine("cpu", "CPU", _ram_gib() * 0.75)


def what_fits(memory_gib: float | None = None, dtype: str = "bf16", context: int = 4096,
              family: str | None = None) -> list[Estimate]:
    """Catalog models whose estimate fits in `memory_gib` (default: this machine), biggest first."""
    memory_gib = this_machine().memory_gib if memory_gib is None else memory_gib
    models = catalog.family(family).models if family else catalog.all_models()
    fits = [e for e in (memory_needed(m, dtype, context) for m in models) if e.total_gib <= memory_gib]
    return sorted(fits, key=lambda e: -e.total_gib)


def check_fits(model, memory_gib: float | None = None, dtype: str = "bf16", context: int = 4096) -> Estimate:
    """The estimate if `model` fits; otherwise NotEnoughMemory naming the best model that does."""
    m = _as_model(model)
    machine = None if memory_gib is not None else this_machine()
    memory_gib = machine.memory_gib if machine else memory_gib
    est = memory_needed(m, dtype, context)
    if est.total_gib <= memory_gib:
        return est
    same_family = what_fits(memory_gib, dtype, context, family=m.family)
    anywhere = what_fits(memory_gib, dtype, context)
    cheaper = [d for d in ("int4",) if d != dtype and memory_needed(m, d, context).total_gib <= memory_gib]
    hint = []
    if cheaper:
        hint.append(f"it would fit quantised to {cheaper[0]}")
    best = (same_family or anywhere)
    if best:
        hint.append(f"{best[0].model_id} fits at {dtype} ({best[0].total_gib:.1f} GiB)")
    advice = "; ".join(hint) if hint else "no catalog model fits; use an API or a bigger machine"
    raise NotEnoughMemory(
        f"{m.id} needs about {est.total_gib:.1f} GiB at {dtype} but {memory_gib:.1f} GiB is available: {advice}.")


# ---------------------------------------------------------------- scale-out ---

@dataclass(frozen=True)
class Plan:
    model_id: str
    dtype: str
    gpu: str
    gpus: int
    nodes: int
    estimate: Estimate
    command: str

    def __str__(self) -> str:
        where = f"{self.gpus} x {self.gpu}" + (f" over {self.nodes} nodes" if self.nodes > 1 else "")
        return f"{self.model_id} ({self.dtype}): {where}\n  {self.command}"


def gpus_needed(model, gpu: str = "H100 80GB", dtype: str = "bf16", context: int = 32768) -> int:
    """GPUs of one kind for the weights + KV cache, rounded up to a tensor-parallel size (1, 2, 4, 8, 16 ...)."""
    if gpu not in GPUS:
        raise FriendlyError(f"Unknown GPU {gpu!r}; the planner knows {list(GPUS)}.")
    est = memory_needed(model, dtype, context)
    raw = est.total_gib / (GPUS[gpu] * USABLE_FRACTION)
    return 2 ** max(0, math.ceil(math.log2(max(raw, 1.0))))


def serve_command(model, engine: str = "vllm", gpu: str = "H100 80GB", dtype: str = "bf16",
                  context: int = 32768, gpus_per_node: int = 8) -> Plan:
    """The vLLM or SGLang command that serves `model` across as many GPUs as it needs."""
    m = _as_model(model)
    n = gpus_needed(m, gpu, dtype, context)
    nodes = max(1, math.ceil(n / gpus_per_node))
    tp = min(n, gpus_per_node)
    extra = []
    if m.trust_remote_code:
        extra.append("--trust-remote-code")
    quant = dtype in {"fp8"} and m.weights_dtype != "fp8"
    if engine == "vllm":
        parts = [f"vllm serve {m.id}", f"--tensor-parallel-size {tp}"]
        if nodes > 1:
            parts.append(f"--pipeline-parallel-size {nodes}")
        if m.is_moe:
            parts.append("--enable-expert-parallel")
        if quant:
            parts.append("--quantization fp8")
        parts.append(f"--max-model-len {min(context, m.context)}")
    elif engine == "sglang":
        parts = [f"python -m sglang.launch_server --model-path {m.id}", f"--tp {n}"]
        if nodes > 1:
            parts.append(f"--nnodes {nodes} --node-rank 0 --dist-init-addr HEAD_NODE_IP:5000")
        if quant:
            parts.append("--quantization fp8")
        parts.append(f"--context-length {min(context, m.context)}")
    else:
        raise FriendlyError(f"Unknown engine {engine!r}: choose 'vllm' or 'sglang'.")
    command = " ".join(parts + extra)
    return Plan(m.id, dtype, gpu, n, nodes, memory_needed(m, dtype, context), command)


def fits_table(models, gpus=("T4 16GB (Colab free)", "RTX 4090 24GB", "H100 80GB"),
               dtypes=("bf16", "int4"), context: int = 4096):
    """Rows for a markdown table: model, params, memory per dtype, GPUs needed per GPU kind."""
    rows = []
    for m in (_as_model(x) for x in models):
        row = {"model": m.id, "params (B)": m.params_b if not m.is_moe else f"{m.params_b} ({m.active_params_b} active)"}
        for d in dtypes:
            row[f"{d} GiB"] = round(memory_needed(m, d, context).total_gib, 1)
        for g in gpus:
            row[g] = gpus_needed(m, g, "bf16", context)
        rows.append(row)
    return rows
