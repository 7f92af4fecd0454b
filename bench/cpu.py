"""CPU decode benchmark: transformers vs llama.cpp, against this machine's memory bandwidth.

    python -m bench.cpu            # full run, writes bench/results/cpu.json
    python -m bench.cpu --quick    # one architecture, fewer tokens: < 3 minutes once cached

Each path runs in its own subprocess (clean peak RSS, no shared torch state). The models are
random-weight models with the REAL dimensions of a released model: decode speed does not depend
on weight values, only on how many bytes each generated token has to read.
See bench/README.md for what is counted and why.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "cpu.json"

from cnllm.gguf import LLAMA_CPP_VERSION, QUANT_TYPES  # noqa: E402  (the book's own GGUF tooling)

from bench.tables import markdown_table  # noqa: E402

# Real dimensions, from the published config.json of each model (see README for sources).
ARCHITECTURES: dict[str, dict] = {
    "qwen3-0.6b": {
        "label": "Qwen3-0.6B",
        "config": {
            "model_type": "qwen3",
            "architectures": ["Qwen3ForCausalLM"],
            "hidden_size": 1024,
            "intermediate_size": 3072,
            "num_hidden_layers": 28,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "max_position_embeddings": 40960,
            "rope_theta": 1000000,
            "rms_norm_eps": 1e-6,
            "attention_bias": False,
            "hidden_act": "silu",
            "bos_token_id": 151643,
            "eos_token_id": 151645,
        },
    },
    "r1-distill-qwen-1.5b": {
        "label": "DeepSeek-R1-Distill-Qwen-1.5B",
        "config": {
            "model_type": "qwen2",
            "architectures": ["Qwen2ForCausalLM"],
            "hidden_size": 1536,
            "intermediate_size": 8960,
            "num_hidden_layers": 28,
            "num_attention_heads": 12,
            "num_key_value_heads": 2,
            "vocab_size": 151936,
            "tie_word_embeddings": False,
            "max_position_embeddings": 131072,
            "rope_theta": 10000,
            "rms_norm_eps": 1e-6,
            "hidden_act": "silu",
            "bos_token_id": 151643,
            "eos_token_id": 151643,
        },
    },
}

PROMPT = (
    "请用三句话介绍一下中国的开源大语言模型。Please answer in English as well, "
    "and mention Qwen, DeepSeek and GLM by name."
)

# Qwen2/Qwen3 pre-tokenizer (single digits, unlike cl100k's \p{N}{1,3}).
GGUF_QUANTS = QUANT_TYPES  # llama.cpp file types, shared with cnllm.gguf
BYTES_PER_ELEMENT = {"fp32": 4, "bf16": 2, "f16": 2}


class BenchError(Exception):
    """An expected failure, reported as one sentence (no traceback)."""


# ----------------------------------------------------------------------------------------
# Pure functions (unit-tested in tests/test_bench.py)
# ----------------------------------------------------------------------------------------

def weight_bytes_read(tensor_bytes: dict[str, int], embed_name: str, head_name: str) -> int:
    """Bytes of weights one decode step reads.

    Every matrix is read once per token, except the input embedding table: a lookup reads one
    row, which we neglect. When the embeddings are tied there is no separate head tensor and
    the LM head reads the shared table once, so it is counted once.
    """
    if embed_name not in tensor_bytes:
        raise KeyError(f"no tensor named {embed_name!r}")
    total = sum(b for name, b in tensor_bytes.items() if name != embed_name)
    if head_name not in tensor_bytes:  # tied: the LM head is the embedding table
        total += tensor_bytes[embed_name]
    return total


def kv_cache_bytes(num_layers: int, num_kv_heads: int, head_dim: int, positions: float,
                   bytes_per_element: float) -> float:
    """Bytes of K and V cache that attention reads for `positions` cached positions."""
    return 2 * num_layers * num_kv_heads * head_dim * positions * bytes_per_element


def mean_context(prompt_tokens: int, new_tokens: int) -> float:
    """Average number of cached positions over the decode steps that produce tokens 2..N."""
    if new_tokens < 2:
        return float(prompt_tokens)
    # step k (k = 1..N-1) attends over prompt + k positions
    return prompt_tokens + new_tokens / 2


def bound_tokens_per_s(bandwidth_bytes_per_s: float, bytes_per_token: float) -> float:
    """Upper bound on decode speed when every token must stream `bytes_per_token` from RAM."""
    if bytes_per_token <= 0:
        raise ValueError("bytes_per_token must be positive")
    return bandwidth_bytes_per_s / bytes_per_token


def percent_of_bound(tokens_per_s: float, bound: float) -> float:
    return 100.0 * tokens_per_s / bound


def decode_rate(token_times: list[float]) -> float:
    """Tokens/s between the first and the last generated token (prefill excluded)."""
    if len(token_times) < 2:
        raise ValueError("need at least two token timestamps")
    span = token_times[-1] - token_times[0]
    if span <= 0:
        raise ValueError("token timestamps must increase")
    return (len(token_times) - 1) / span


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000
    raise AssertionError


COLUMNS = ["model", "path", "format", "weight bytes", "tok/s", "bound tok/s", "% of bound",
           "read GB/s", "TTFT", "peak RSS"]


def read_gbps(row: dict) -> float | None:
    """The bandwidth a path actually drew: tokens/s x bytes read per token."""
    if row.get("tok_s") is None or not row.get("bytes_per_token"):
        return None
    return row["tok_s"] * row["bytes_per_token"] / 1e9


def table_cells(row: dict) -> list[str]:
    if row.get("error"):
        return [row["model"], row["path"], row["format"], human_bytes(row.get("weight_bytes")),
                "skipped", "-", "-", "-", "-", "-"]

    def num(v, fmt):
        return "-" if v is None else format(v, fmt)

    ttft = row.get("ttft_s")
    return [
        row["model"], row["path"], row["format"], human_bytes(row.get("weight_bytes")),
        num(row.get("tok_s"), ".1f"), num(row.get("bound_tok_s"), ".1f"),
        num(row.get("pct_of_bound"), ".0f") + ("" if row.get("pct_of_bound") is None else " %"),
        num(read_gbps(row), ".1f"),
        "-" if ttft is None else f"{ttft * 1000:.0f} ms",
        human_bytes(row.get("peak_rss_bytes")),
    ]


def format_table(rows: list[dict]) -> str:
    """A Markdown table (also readable in a terminal)."""
    return markdown_table(COLUMNS, [table_cells(r) for r in rows], right={3, 4, 5, 6, 7, 8, 9})


# ----------------------------------------------------------------------------------------
# Machine facts and memory bandwidth
# ----------------------------------------------------------------------------------------

def cpu_facts() -> dict:
    name, flags = platform.processor() or "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    wanted = ["avx2", "fma", "f16c", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16"]
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        pass
    return {"cpu_model": name, "logical_cores": os.cpu_count(),
            "cpu_flags": [f for f in wanted if f in flags], "memory_bytes": mem,
            "machine": platform.machine()}


def package_versions() -> dict:
    from importlib import metadata
    out = {"python": platform.python_version()}
    for dist in ("torch", "transformers", "tokenizers", "numpy", "llama-cpp-python"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def measure_bandwidth(size_bytes: int = 1 << 30, repeats: int = 5) -> dict:
    """Best-of-N GB/s for STREAM-like kernels over arrays much larger than any cache."""
    import numpy as np
    import torch

    n = size_bytes // 4
    a = torch.ones(n, dtype=torch.float32)
    b = torch.empty(n, dtype=torch.float32)
    c = torch.full((n,), 2.0, dtype=torch.float32)

    def best(fn, nbytes):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return nbytes / min(times) / 1e9

    an, bn = a.numpy(), b.numpy()
    res = {
        "array_bytes": size_bytes,
        "repeats": repeats,
        "torch_threads": torch.get_num_threads(),
        # bytes counted as STREAM does: read + write, no write-allocate traffic
        "numpy_copy_1thread_GBps": best(lambda: np.copyto(bn, an), 2 * size_bytes),
        "torch_copy_GBps": best(lambda: b.copy_(a), 2 * size_bytes),
        "torch_triad_GBps": best(lambda: torch.add(b, c, alpha=3.0, out=a), 3 * size_bytes),
        "torch_read_sum_GBps": best(lambda: a.sum(), size_bytes),
        # what decode does: a matrix-vector product streaming one big weight matrix
        "torch_gemv_read_GBps": best(lambda: torch.mv(a.view(-1, 4096), c[:4096]), size_bytes),
    }
    kernels = [k for k in res if k.endswith("GBps")]
    top = max(kernels, key=lambda k: res[k])
    res["bound_GBps"] = res[top]
    res["bound_kernel"] = top
    del a, b, c
    return res


# ----------------------------------------------------------------------------------------
# Artifacts: tokenizer, random real-size models, GGUF files
# ----------------------------------------------------------------------------------------

def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def build_qwen_tokenizer(out_dir: Path) -> None:
    """Qwen's real BPE, built by the book's library from dashscope's qwen.tiktoken."""
    from cnllm import tokenizers

    try:
        tokenizers.build_qwen(out_dir)
    except tokenizers.TokenizerUnavailable as err:
        raise BenchError(str(err)) from None


def build_model(arch: str, cache: Path) -> Path:
    """Save a random-weight model of the real size, with tokenizer, as a safetensors folder."""
    out = cache / "models" / arch
    if (out / "model.safetensors").exists() or (out / "model.safetensors.index.json").exists():
        return out
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    log(f"building random {arch} (real dimensions) ...")
    t0 = time.perf_counter()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tok_dir = cache / "tokenizer-qwen"
    if not (tok_dir / "tokenizer.json").exists():
        build_qwen_tokenizer(tok_dir)
    for f in tok_dir.iterdir():
        shutil.copy(f, tmp / f.name)
    spec = dict(ARCHITECTURES[arch]["config"])
    config = AutoConfig.for_model(spec.pop("model_type"), **spec)
    config.dtype = "bfloat16"
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(tmp)
    del model
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    log(f"built {arch} in {time.perf_counter() - t0:.0f} s")
    return out


def llama_cpp_source(cache: Path, explicit: str | None) -> Path:
    """The llama.cpp tree vendored in the llama-cpp-python sdist (for convert_hf_to_gguf.py)."""
    if explicit:
        src = Path(explicit)
        if not (src / "convert_hf_to_gguf.py").exists():
            raise BenchError("--llama-cpp-src has no convert_hf_to_gguf.py")
        return src
    from cnllm import gguf
    from cnllm.errors import FriendlyError

    try:
        return gguf.llama_cpp_source()
    except FriendlyError as err:
        raise BenchError(str(err)) from None


def convert_to_gguf(model_dir: Path, out: Path, src: Path) -> None:
    import importlib.util

    from cnllm import gguf
    from cnllm.errors import FriendlyError

    if importlib.util.find_spec("sentencepiece") is None:  # the converter imports it for every model
        raise BenchError("llama.cpp's convert_hf_to_gguf.py needs sentencepiece: pip install sentencepiece")
    if not out.exists():
        log(f"converting {model_dir.name} to GGUF F16 with llama.cpp's convert_hf_to_gguf.py ...")
    try:
        gguf.convert(model_dir, out, src=src)
    except FriendlyError as err:
        raise BenchError(str(err)) from None


def quantize_gguf(f16: Path, out: Path, quant: str, threads: int, pure: bool = False) -> None:
    if out.exists():
        return
    log(f"quantizing {f16.name} to {quant}{' (pure)' if pure else ''} ...")
    res = run_worker({"kind": "quantize", "f16": str(f16), "out": str(out), "quant": quant,
                      "threads": threads, "pure": pure}, timeout=1800)
    if "error" in res:
        raise BenchError(f"quantizing to {quant} failed: {res['error']}")


def worker_quantize(spec: dict) -> dict:
    from cnllm import gguf

    gguf.quantize(spec["f16"], spec["out"], spec["quant"], spec["threads"], pure=spec.get("pure", False))
    return {}


def gguf_tensor_bytes(path: Path, src: Path) -> dict[str, int]:
    sys.path.insert(0, str(src / "gguf-py"))
    try:
        from gguf import GGUFReader
    finally:
        sys.path.pop(0)
    return {t.name: int(t.n_bytes) for t in GGUFReader(str(path)).tensors}


def hf_tensor_bytes(model_dir: Path, bytes_per_element: int) -> dict[str, int]:
    from safetensors import safe_open

    out = {}
    for f in sorted(model_dir.glob("*.safetensors")):
        with safe_open(str(f), "np") as sf:
            for name in sf.keys():
                shape = sf.get_slice(name).get_shape()
                n = 1
                for d in shape:
                    n *= d
                out[name] = n * bytes_per_element
    return out


# ----------------------------------------------------------------------------------------
# Workers (one subprocess per measured path)
# ----------------------------------------------------------------------------------------

def peak_rss_bytes() -> int:
    """This process's peak resident set. VmHWM (Linux) resets at exec; ru_maxrss does not,
    so a worker forked from a big parent would report the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def worker_transformers(spec: dict) -> dict:
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.generation.streamers import BaseStreamer

    torch.set_num_threads(spec["threads"])
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[spec["dtype"]]
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(spec["model_dir"], dtype=dtype).eval()
    load_s = time.perf_counter() - t0
    ids = torch.tensor([spec["prompt_ids"]])
    n = spec["new_tokens"]

    class Stamps(BaseStreamer):
        def __init__(self):
            self.times = []

        def put(self, value):
            self.times.append(time.perf_counter())

        def end(self):
            pass

    kwargs = dict(max_new_tokens=n, min_new_tokens=n, do_sample=False, top_p=None, top_k=None,
                  temperature=None, attention_mask=torch.ones_like(ids),
                  pad_token_id=spec["pad_token_id"])
    if spec.get("static_cache"):
        kwargs["cache_implementation"] = "static"
    if spec.get("compile"):
        from transformers import CompileConfig
        cc = CompileConfig(fullgraph=False, dynamic=False, mode="default")
        cc._compile_all_devices = True  # transformers only auto-compiles on GPUs otherwise
        kwargs["compile_config"] = cc
    else:
        kwargs["disable_compile"] = True

    def one():
        s = Stamps()
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(ids, streamer=s, **kwargs)
        new = out.shape[1] - ids.shape[1]
        assert new == n, f"generated {new} tokens, expected {n}"
        # put() #1 is the prompt, put() #2 the first new token
        gen = s.times[1:]
        return {"ttft_s": gen[0] - start, "tok_s": decode_rate(gen),
                "total_s": time.perf_counter() - start}

    return timed_runs(one, spec, load_s)


def timed_runs(one, spec: dict, load_s: float) -> dict:
    """Warm up, then time `spec["runs"]` calls of `one` (each returns that run's figures)."""
    t0 = time.perf_counter()
    for _ in range(spec["warmup"]):
        one()
    warmup_s = time.perf_counter() - t0
    runs = [one() for _ in range(spec["runs"])]
    return {"load_s": load_s, "warmup_s": warmup_s, "runs": runs}


def worker_llama(spec: dict) -> dict:
    from llama_cpp import Llama

    o = spec["llama"]
    t0 = time.perf_counter()
    llm = Llama(model_path=spec["model_path"], n_ctx=spec["n_ctx"], n_threads=o["n_threads"],
                n_threads_batch=o["n_threads"], n_batch=o["n_batch"],
                flash_attn=o["flash_attn"], use_mmap=o["use_mmap"], use_mlock=o["use_mlock"],
                seed=0, verbose=False)
    load_s = time.perf_counter() - t0
    n = spec["new_tokens"]

    def one():
        llm.reset()
        times = []
        start = time.perf_counter()
        for _tok in llm.generate(spec["prompt_ids"], top_k=1, temp=0.0, reset=True):
            times.append(time.perf_counter())
            if len(times) == n:  # exactly n new tokens, EOS or not
                break
        return {"ttft_s": times[0] - start, "tok_s": decode_rate(times),
                "total_s": time.perf_counter() - start}

    return timed_runs(one, spec, load_s)


def worker_main(spec_json: str) -> int:
    spec = json.loads(spec_json)
    try:
        fn = {"llama": worker_llama, "quantize": worker_quantize,
              "transformers": worker_transformers}[spec["kind"]]
        res = fn(spec)
        res["peak_rss_bytes"] = peak_rss_bytes()
    except Exception as e:  # reported by the parent as one line
        res = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
    print("RESULT " + json.dumps(res), flush=True)
    return 0


NOISY_SPREAD = 1.25
INTERLEAVED_ROUNDS = 5


def combine_interleaved(results: list[dict]) -> dict:
    """One path's result from several single-run worker processes (see the interleaved rows)."""
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        return {"error": errors[0]}
    return {"runs": [run for r in results for run in r["runs"]],
            "load_s": statistics.median(r["load_s"] for r in results),
            "warmup_s": statistics.median(r["warmup_s"] for r in results),
            "peak_rss_bytes": max(r["peak_rss_bytes"] for r in results),
            "load_average_before": results[0].get("load_average_before")}


def run_worker(spec: dict, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "bench.cpu", "--worker", json.dumps(spec)]
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false", TRANSFORMERS_VERBOSITY="error",
               HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore")
    load = round(os.getloadavg()[0], 2)
    try:
        r = subprocess.run(cmd, cwd=HERE.parent, capture_output=True, text=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(r.stdout.splitlines()):
        if line.startswith("RESULT "):
            res = json.loads(line[len("RESULT "):])
            res["load_average_before"] = load
            return res
    tail = (r.stderr.strip().splitlines() or [f"exit code {r.returncode}"])[-1]
    return {"error": f"worker crashed: {tail}"}


# ----------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------

@dataclass
class Settings:
    archs: list[str]
    new_tokens: int
    runs: int
    warmup: int
    threads: int
    compile: bool
    tune: bool
    formats: list[str] = field(default_factory=lambda: ["F16", "Q8_0", "Q4_K_M", "Q4_0"])


def summarize(model: str, path: str, fmt: str, res: dict, weight_bytes: int, kv_bytes: float,
              bandwidth: float) -> dict:
    row = {"model": model, "path": path, "format": fmt, "weight_bytes": weight_bytes,
           "kv_bytes_per_token": round(kv_bytes),
           "bytes_per_token": round(weight_bytes + kv_bytes)}
    row["bound_tok_s"] = bound_tokens_per_s(bandwidth, row["bytes_per_token"])
    if "error" in res:
        row["error"] = res["error"]
        return row
    runs = res["runs"]
    speeds = [r["tok_s"] for r in runs]
    row["run_spread"] = max(speeds) / min(speeds)  # > NOISY_SPREAD: something else was running
    row.update({
        "tok_s": statistics.median(r["tok_s"] for r in runs),
        "tok_s_runs": [round(r["tok_s"], 2) for r in runs],
        "ttft_s": statistics.median(r["ttft_s"] for r in runs),
        "peak_rss_bytes": res["peak_rss_bytes"],
        "load_s": res["load_s"],
        "warmup_s": res["warmup_s"],
        "load_average_before": res.get("load_average_before"),
    })
    row["pct_of_bound"] = percent_of_bound(row["tok_s"], row["bound_tok_s"])
    row["read_GBps"] = read_gbps(row)
    return row


def wait_for_quiet(max_wait_s: float, threshold: float) -> list[float]:
    waited = 0.0
    while True:
        load = list(os.getloadavg())
        if load[0] <= threshold or waited >= max_wait_s:
            if load[0] > threshold:
                log(f"load average still {load[0]:.2f} after {waited:.0f} s; running anyway")
            return load
        log(f"1-minute load average {load[0]:.2f} > {threshold}; waiting 30 s ...")
        time.sleep(30)
        waited += 30


def run(settings: Settings, cache: Path, llama_src: str | None, bandwidth_bytes: int,
        wait_s: float) -> dict:
    from transformers import AutoTokenizer

    load_before = wait_for_quiet(wait_s, 1.5) if wait_s > 0 else list(os.getloadavg())
    started = time.perf_counter()
    result = {
        "schema": 1,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
        "machine": cpu_facts(),
        "versions": package_versions(),
        "load_average_at_start": [round(x, 2) for x in load_before],
        "settings": {"prompt": PROMPT, "new_tokens": settings.new_tokens, "runs": settings.runs,
                     "warmup_runs": settings.warmup, "threads": settings.threads,
                     "statistic": "median over runs", "decoding": "greedy, exactly N new tokens"},
        "notes": [],
    }
    notes = result["notes"]

    try:
        import llama_cpp  # noqa: F401
        have_llama = True
    except ImportError:
        have_llama = False
        msg = (f"llama_cpp is not installed (pip install llama-cpp-python=={LLAMA_CPP_VERSION}); "
               "skipping the llama.cpp rows.")
        log(msg)
        notes.append(msg)
    if have_llama and result["versions"]["llama-cpp-python"] != LLAMA_CPP_VERSION:
        notes.append(f"llama-cpp-python {result['versions']['llama-cpp-python']} is installed; "
                     f"the GGUF converter comes from {LLAMA_CPP_VERSION}.")

    log("measuring memory bandwidth ...")
    bw = measure_bandwidth(bandwidth_bytes)
    result["bandwidth"] = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in bw.items()}
    bandwidth = bw["bound_GBps"] * 1e9
    log(f"bandwidth bound: {bw['bound_GBps']:.1f} GB/s ({bw['bound_kernel']})")

    def remeasure_bandwidth():  # other load on the machine only lowers it; keep the best
        nonlocal bandwidth
        again = measure_bandwidth(bandwidth_bytes)
        if again["bound_GBps"] > bw["bound_GBps"]:
            result["bandwidth"] = {k: (round(v, 2) if isinstance(v, float) else v)
                                   for k, v in again.items()}
            result["bandwidth"]["measured"] = "end of run (higher than at start)"
            bandwidth = again["bound_GBps"] * 1e9
            for r in rows + tuning:
                r["bound_tok_s"] = bound_tokens_per_s(bandwidth, r["bytes_per_token"])
                if r.get("tok_s") is not None:
                    r["pct_of_bound"] = percent_of_bound(r["tok_s"], r["bound_tok_s"])

    rows, tuning = [], []
    src = None
    if have_llama:
        try:
            src = llama_cpp_source(cache, llama_src)
        except BenchError as e:
            notes.append(f"llama.cpp rows skipped: {e}")
            log(notes[-1])
            have_llama = False

    for arch in settings.archs:
        label = ARCHITECTURES[arch]["label"]
        cfg = ARCHITECTURES[arch]["config"]
        model_dir = build_model(arch, cache)
        tok = AutoTokenizer.from_pretrained(model_dir)
        prompt_ids = tok(PROMPT)["input_ids"]
        n = settings.new_tokens
        P = len(prompt_ids)
        head_dim = cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
        kv = dict(num_layers=cfg["num_hidden_layers"], num_kv_heads=cfg["num_key_value_heads"],
                  head_dim=head_dim)
        result.setdefault("models", {})[label] = {
            "config": cfg, "prompt_tokens": P,
            "parameters": sum(hf_tensor_bytes(model_dir, 1).values()),
        }
        base = {"prompt_ids": prompt_ids, "new_tokens": n, "runs": settings.runs,
                "warmup": settings.warmup, "threads": settings.threads}

        hf_paths = [("transformers", "fp32", {}),
                    ("transformers", "bf16", {}),
                    ("transformers static cache", "bf16", {"static_cache": True})]
        if settings.compile and arch == settings.archs[0]:  # compiling costs minutes on 2 cores
            hf_paths.append(("transformers static + compile", "bf16",
                             {"static_cache": True, "compile": True}))
        for path, dt, extra in hf_paths:
            log(f"{label}: {path} {dt} ...")
            spec = dict(base, kind="transformers", model_dir=str(model_dir), dtype=dt,
                        pad_token_id=tok.pad_token_id, **extra)
            res = run_worker(spec, timeout=1500 if extra.get("compile") else 900)
            bpe = BYTES_PER_ELEMENT[dt]
            wb = weight_bytes_read(hf_tensor_bytes(model_dir, bpe), "model.embed_tokens.weight",
                                   "lm_head.weight")
            # a static cache is allocated for prompt + N and attention reads all of it
            positions = P + n if extra.get("static_cache") else mean_context(P, n)
            row = summarize(label, path, dt, res, wb, kv_cache_bytes(positions=positions,
                            bytes_per_element=bpe, **kv), bandwidth)
            rows.append(row)
            log(f"  -> {table_cells(row)[4]} tok/s")

        if not have_llama:
            continue
        try:
            gdir = cache / "gguf"
            gdir.mkdir(parents=True, exist_ok=True)
            f16 = gdir / f"{arch}-F16.gguf"
            convert_to_gguf(model_dir, f16, src)
            files = {"F16": f16}
            for q in settings.formats:
                if q != "F16":
                    files[q] = gdir / f"{arch}-{q}.gguf"
                    quantize_gguf(f16, files[q], q, settings.threads)
        except BenchError as e:
            notes.append(f"{label}: llama.cpp rows skipped: {e}")
            log(notes[-1])
            continue
        default_llama = {"n_threads": settings.threads, "n_batch": 512, "flash_attn": False,
                         "use_mmap": True, "use_mlock": False}
        for fmt in settings.formats:
            log(f"{label}: llama.cpp {fmt} ...")
            spec = dict(base, kind="llama", model_path=str(files[fmt]), n_ctx=512,
                        llama=default_llama)
            res = run_worker(spec, timeout=900)
            wb = weight_bytes_read(gguf_tensor_bytes(files[fmt], src), "token_embd.weight",
                                   "output.weight")
            row = summarize(label, "llama.cpp", fmt, res, wb,
                            kv_cache_bytes(positions=mean_context(P, n), bytes_per_element=2,
                                           **kv), bandwidth)
            row["llama_settings"] = default_llama
            rows.append(row)
            log(f"  -> {table_cells(row)[4]} tok/s")

        if settings.tune and arch == settings.archs[0]:
            fmt = "Q4_K_M"
            variants = [
                ("n_threads=1", {"n_threads": 1}),
                ("flash_attn=True", {"flash_attn": True}),
                ("n_batch=64", {"n_batch": 64}),
                ("use_mmap=False", {"use_mmap": False}),
                ("use_mlock=True", {"use_mlock": True}),
            ]
            wb = weight_bytes_read(gguf_tensor_bytes(files[fmt], src), "token_embd.weight",
                                   "output.weight")
            for name, change in variants:
                log(f"{label}: llama.cpp {fmt} tuning {name} ...")
                opts = dict(default_llama, **change)
                spec = dict(base, kind="llama", model_path=str(files[fmt]), n_ctx=512,
                            llama=opts)
                res = run_worker(spec, timeout=600)
                row = summarize(label, f"llama.cpp {name}", fmt, res, wb,
                                kv_cache_bytes(positions=mean_context(P, n),
                                               bytes_per_element=2, **kv), bandwidth)
                row["llama_settings"] = opts
                tuning.append(row)
                log(f"  -> {table_cells(row)[4]} tok/s")
            if "Q4_0" in files:
                # The book's recommendation (Q4_0, repacked for AVX2, + flash attention), then the
                # same with one thread (does speed scale with cores, i.e. is it compute-bound?) and
                # with a 4-bit output layer (llama-quantize --pure; by default it stays at Q6_K).
                pure = gdir / f"{arch}-Q4_0-pure.gguf"
                try:
                    quantize_gguf(f16, pure, "Q4_0", settings.threads, pure=True)
                except BenchError as e:
                    notes.append(f"{label}: pure Q4_0 skipped: {e}")
                    pure = None
                fa = dict(default_llama, flash_attn=True)
                recommended = [("llama.cpp flash_attn=True", "Q4_0", files["Q4_0"], fa),
                               ("llama.cpp flash_attn=True n_threads=1", "Q4_0", files["Q4_0"],
                                dict(fa, n_threads=1))]
                if pure:
                    recommended.append(("llama.cpp flash_attn=True", "Q4_0 pure", pure, fa))
                # These rows are compared with each other, so they are timed interleaved (A, B, C,
                # A, B, C, ...: one fresh process per timed run), so that a slow minute on a shared
                # machine hits all of them alike instead of one block.
                rounds = max(settings.runs, INTERLEAVED_ROUNDS)
                log(f"{label}: recommended path, {len(recommended)} variants interleaved x {rounds} ...")
                parts: list[list[dict]] = [[] for _ in recommended]
                for _ in range(rounds):
                    for i, (name, fmt_label, gguf_path, opts) in enumerate(recommended):
                        spec = dict(base, kind="llama", model_path=str(gguf_path), n_ctx=512,
                                    llama=opts, runs=1)
                        parts[i].append(run_worker(spec, timeout=600))
                for (name, fmt_label, gguf_path, opts), results in zip(recommended, parts):
                    res = combine_interleaved(results)
                    wb0 = weight_bytes_read(gguf_tensor_bytes(gguf_path, src), "token_embd.weight",
                                            "output.weight")
                    row = summarize(label, name, fmt_label, res, wb0,
                                    kv_cache_bytes(positions=mean_context(P, n), bytes_per_element=2,
                                                   **kv), bandwidth)
                    row["llama_settings"] = opts
                    row["interleaved_rounds"] = rounds
                    tuning.append(row)
                    log(f"  {name} {fmt_label} -> {table_cells(row)[4]} tok/s")

    result["kernels"] = []
    if settings.tune and have_llama:  # full run: is the llama.cpp kernel waiting on memory or arithmetic?
        from bench import kernels

        log("timing llama.cpp's matrix-vector kernels in cache and from RAM ...")
        try:
            result["kernels"] = kernels.measure(cache, settings.threads)
        except kernels.KernelBenchError as e:
            notes.append(f"kernel timings skipped: {e}")
            log(notes[-1])

    log("measuring memory bandwidth again ...")
    remeasure_bandwidth()
    result["results"] = rows
    result["tuning"] = tuning
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["wall_s"] = round(time.perf_counter() - started)
    return result


PATH_OPTIONS = ("--out", "--cache-dir", "--llama-cpp-src")


def command_line(argv: list[str]) -> str:
    """The command as run, with path-valued options dropped (no machine paths in results)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in PATH_OPTIONS:
            skip = True
            continue
        if arg.split("=", 1)[0] in PATH_OPTIONS:
            continue
        kept.append(arg)
    return " ".join(["python -m bench.cpu"] + kept)


def round_floats(obj, digits=4):
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {k: round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, list):
        return [round_floats(v, digits) for v in obj]
    return obj


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="one architecture, 16 tokens, 3 runs, no torch.compile, no tuning")
    p.add_argument("--out", default=None,
                   help="JSON results path (default bench/results/cpu.json; "
                        "bench/results/cpu-quick.json with --quick)")
    p.add_argument("--arch", action="append", choices=sorted(ARCHITECTURES),
                   help="architecture(s) to run (default: all; --quick: qwen3-0.6b)")
    p.add_argument("--tokens", type=int, help="new tokens per run (default 32; quick 16)")
    p.add_argument("--runs", type=int, help="timed runs per path, median reported (default 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="threads for torch and llama.cpp (default: all logical cores)")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile row")
    p.add_argument("--no-tune", action="store_true", help="skip the llama.cpp settings sweep")
    p.add_argument("--cache-dir", default=os.environ.get(
        "CNLLM_BENCH_CACHE", str(Path.home() / ".cache" / "cnllm" / "bench")),
        help="where models, GGUF files and the llama.cpp sdist are kept "
             "(env CNLLM_BENCH_CACHE)")
    p.add_argument("--llama-cpp-src", help="an existing vendor/llama.cpp folder of the "
                   f"llama-cpp-python {LLAMA_CPP_VERSION} sdist (default: download it)")
    p.add_argument("--wait-for-idle", type=float, default=None, metavar="SECONDS",
                   help="wait up to this long for the 1-min load average to drop below 1.5 "
                        "(default 600 for a full run, 0 with --quick)")
    p.add_argument("--bandwidth-mb", type=int, default=None,
                   help="array size for the bandwidth test (default 1024; quick 512)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker_main(a.worker)

    q = a.quick
    settings = Settings(
        archs=a.arch or (["qwen3-0.6b"] if q else list(ARCHITECTURES)),
        new_tokens=a.tokens or (16 if q else 32),
        runs=a.runs or 3,
        warmup=1,
        threads=a.threads,
        compile=not (q or a.no_compile),
        tune=not (q or a.no_tune),
    )
    if settings.new_tokens < 2 or settings.runs < 1:
        p.error("--tokens must be >= 2 and --runs >= 1")
    out = Path(a.out) if a.out else (DEFAULT_OUT.with_name("cpu-quick.json") if q
                                     else DEFAULT_OUT)
    wait = a.wait_for_idle if a.wait_for_idle is not None else (0 if q else 600)
    bw_bytes = (a.bandwidth_mb or (512 if q else 1024)) << 20
    try:
        result = run(settings, Path(a.cache_dir).expanduser(), a.llama_cpp_src, bw_bytes, wait)
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    result["command"] = command_line(argv if argv is not None else sys.argv[1:])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(round_floats(result), indent=1, ensure_ascii=False) + "\n")
    bwr = result["bandwidth"]
    print(f"\nMemory bandwidth (bound): {bwr['bound_GBps']:.1f} GB/s "
          f"[{bwr['bound_kernel']}]; {result['machine']['cpu_model']}, "
          f"{result['machine']['logical_cores']} cores; load avg at start "
          f"{result['load_average_at_start'][0]}\n")
    print(format_table(result["results"]))
    if result["tuning"]:
        print("\nllama.cpp settings sweep (Q4_K_M), then the recommended Q4_0:\n")
        print(format_table(result["tuning"]))
    if result.get("kernels"):
        from bench import kernels

        print(f"\nOne llama.cpp matrix-vector product (rows of {kernels.K}), "
              "in cache vs from RAM:\n")
        print(kernels.format_table(result["kernels"]))
    noisy = [r for r in result["results"] + result["tuning"]
             if r.get("run_spread", 1) > NOISY_SPREAD]
    if noisy:
        print(f"\nnoisy (fastest/slowest run > {NOISY_SPREAD}; rerun on a quiet machine): "
              + "; ".join(f"{r['model']} {r['path']} {r['format']}" for r in noisy))
    for r in result["results"] + result["tuning"]:
        if r.get("error"):
            print(f"\n{r['model']} / {r['path']} {r['format']}: {r['error']}")
    for note in result["notes"]:
        print(f"\nnote: {note}")
    try:
        shown = out.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = out
    print(f"\nwrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
