"""Is llama.cpp's decode kernel waiting on memory or on arithmetic? One matrix-vector product,
timed on a matrix that fits in cache and on one that must stream from RAM.

    python -m bench.kernels            # ~1 minute; also part of a full `python -m bench.cpu`

If a kernel runs no faster from cache than from RAM, arithmetic is its limit (more bandwidth
would not help); if it runs much faster from cache, memory is. bench/gemv.c is compiled against
llama-cpp-python's own ggml libraries, with the headers from the same source distribution the
book's GGUF tooling downloads (sha256-checked), so the kernels are exactly the ones llama.cpp runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from bench.tables import markdown_table

HERE = Path(__file__).resolve().parent

# (label, ggml type, placed in the CPU_REPACK buffer as llama.cpp does at load time on AVX2)
KERNELS = [
    ("Q4_0", "q4_0", True),
    ("Q4_K", "q4_k", True),
    ("Q8_0", "q8_0", False),
    ("F16", "f16", False),
]
BYTES_PER_WEIGHT = {"q4_0": 18 / 32, "q4_k": 144 / 256, "q8_0": 34 / 32, "f16": 2.0}
K = 1024  # the row length of most of Qwen3-0.6B's matrices
CACHE_BYTES = 4 << 20  # in cache: ~4 MB of weights, well inside a 32 MB L3 (beyond the 1 MB L2)
DRAM_BYTES = 512 << 20  # from RAM: ~0.5 GB, far beyond any cache


def rows_for(ggml_type: str, target_bytes: int) -> int:
    """Matrix rows giving about `target_bytes` of weights (a multiple of 64, for the repacked layouts)."""
    n = int(target_bytes / (K * BYTES_PER_WEIGHT[ggml_type])) // 64 * 64
    return max(n, 64)


class KernelBenchError(Exception):
    """An expected failure (no compiler, no llama-cpp-python), reported in one sentence."""


def gbps(nbytes: int, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    return nbytes / seconds / 1e9


def parse_line(line: str) -> tuple[int, float, str]:
    """gemv prints 'bytes seconds buffer'."""
    parts = line.split()
    try:
        if len(parts) != 3:
            raise ValueError
        return int(parts[0]), float(parts[1]), parts[2]
    except ValueError:
        raise KernelBenchError(f"unexpected output from gemv: {line!r}") from None


def verdict(cache_gbps: float, dram_gbps: float) -> str:
    """Which resource limits the kernel, from its in-cache and from-RAM speeds."""
    ratio = cache_gbps / dram_gbps
    if ratio < 1.25:
        return "arithmetic"  # memory is not what it waits on
    if ratio > 1.6:
        return "memory"
    return "both"


def _llama_lib_dir() -> Path:
    try:
        import llama_cpp
    except ImportError:
        raise KernelBenchError("llama-cpp-python is not installed") from None
    lib = Path(llama_cpp.__file__).parent / "lib"
    if not (lib / "libggml-cpu.so").exists():  # what -lggml-cpu links against
        raise KernelBenchError(f"no ggml libraries in llama-cpp-python's package ({lib.name}/)")
    return lib


def ggml_headers(cache: Path) -> Path:
    """ggml's public headers from the llama-cpp-python sdist (same version as the libraries)."""
    explicit = os.environ.get("LLAMA_CPP_DIR")
    if explicit and (Path(explicit) / "ggml" / "include" / "ggml.h").is_file():
        return Path(explicit) / "ggml" / "include"
    from cnllm import gguf
    from cnllm.errors import FriendlyError

    out = cache / f"ggml-include-{gguf.LLAMA_CPP_VERSION}"
    if (out / "ggml.h").is_file():
        return out
    try:
        src = gguf.llama_cpp_source()  # downloads + checks the sdist once
    except FriendlyError as err:
        raise KernelBenchError(str(err)) from None
    tarball = src.parents[2] / f"llama_cpp_python-{gguf.LLAMA_CPP_VERSION}.tar.gz"
    if not tarball.is_file():
        raise KernelBenchError("the llama-cpp-python source distribution is not in the cache")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(tarball) as tf:
        for m in tf.getmembers():
            if "/vendor/llama.cpp/ggml/include/" in m.name and m.isfile():
                m.name = Path(m.name).name
                tf.extract(m, tmp, filter="data")
    if not (tmp / "ggml.h").is_file():
        raise KernelBenchError("the source distribution has no ggml headers")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def build(cache: Path) -> Path:
    """Compile bench/gemv.c against llama-cpp-python's libraries (cached by source and library)."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        raise KernelBenchError("no C compiler found (install build-essential, or set CC)")
    lib = _llama_lib_dir()
    inc = ggml_headers(cache)
    exe = cache / "gemv"
    source = HERE / "gemv.c"
    if exe.exists() and exe.stat().st_mtime > max(source.stat().st_mtime, (lib / "libggml-cpu.so").stat().st_mtime):
        return exe
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [cc, "-O2", "-std=c11", "-D_POSIX_C_SOURCE=199309L", f"-I{inc}", str(source), f"-L{lib}",
           "-lggml", "-lggml-base", "-lggml-cpu", f"-Wl,-rpath,{lib}", "-o", str(exe)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise KernelBenchError(f"compiling gemv.c failed: {last}")
    return exe


def run_one(exe: Path, n: int, threads: int, ggml_type: str, repack: bool, reps: int) -> dict:
    r = subprocess.run([str(exe), str(K), str(n), str(threads), ggml_type, str(int(repack)), str(reps)],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise KernelBenchError(f"gemv {ggml_type} failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    nbytes, seconds, buffer = parse_line(r.stdout.strip().splitlines()[-1])
    return {"bytes": nbytes, "seconds": seconds, "GBps": gbps(nbytes, seconds), "buffer": buffer}


def measure(cache: Path, threads: int, best_of: int = 3) -> list[dict]:
    """Every kernel x {1 thread, `threads`} x {in cache, from RAM}; best of `best_of` processes."""
    exe = build(cache)
    rows = []
    for label, ggml_type, repack in KERNELS:
        for nth in sorted({1, threads}):
            row = {"kernel": label, "threads": nth}
            for where, target, reps in (("cache", CACHE_BYTES, 300), ("dram", DRAM_BYTES, 8)):
                n = rows_for(ggml_type, target)
                runs = [run_one(exe, n, nth, ggml_type, repack, reps) for _ in range(best_of)]
                best = max(runs, key=lambda x: x["GBps"])
                row[f"{where}_GBps"] = best["GBps"]
                row[f"{where}_bytes"] = best["bytes"]
                row["buffer"] = best["buffer"]
            row["limit"] = verdict(row["cache_GBps"], row["dram_GBps"])
            rows.append(row)
    return rows


COLUMNS = ["kernel", "buffer", "threads", "in cache GB/s", "from RAM GB/s", "cache / RAM", "limit"]


def format_table(rows: list[dict]) -> str:
    return markdown_table(COLUMNS, [[r["kernel"], r["buffer"], str(r["threads"]), f"{r['cache_GBps']:.1f}",
                                     f"{r['dram_GBps']:.1f}", f"{r['cache_GBps'] / r['dram_GBps']:.2f}x",
                                     r["limit"]] for r in rows], right={2, 3, 4, 5})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.kernels", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--cache-dir", default=os.environ.get("CNLLM_BENCH_CACHE",
                                                         str(Path.home() / ".cache" / "cnllm" / "bench")))
    p.add_argument("--out", default=None, help="also write the rows as JSON here")
    a = p.parse_args(argv)
    try:
        rows = measure(Path(a.cache_dir), a.threads)
    except KernelBenchError as err:
        print(f"bench.kernels: {err}", file=sys.stderr)
        return 1
    print(format_table(rows))
    if a.out:
        Path(a.out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
