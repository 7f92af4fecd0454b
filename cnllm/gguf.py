"""GGUF files for llama.cpp: the official download when the Hub answers, a converted stand-in offline.

``locate_gguf(model_id, quant)`` returns a local ``.gguf`` path and prints where it came from:

1. a file you name (argument or ``CNLLM_GGUF``);
2. the family's official GGUF repository on the Hub (recorded in the catalog), when reachable;
3. offline, the model's stand-in converted with llama.cpp's own ``convert_hf_to_gguf.py``
   (run from the llama-cpp-python source distribution, never copied) and quantised with
   ``llama_cpp.llama_model_quantize`` — the same two steps you would run on real weights.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from . import catalog, loading, standins
from .errors import FriendlyError

LLAMA_CPP_VERSION = "0.3.36"
LLAMA_CPP_SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
QUANT_TYPES = {  # llama.cpp file types (llama_ftype) by their usual names
    "F16": "LLAMA_FTYPE_MOSTLY_F16",
    "Q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
    "Q6_K": "LLAMA_FTYPE_MOSTLY_Q6_K",
    "Q5_K_M": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
    "Q4_K_M": "LLAMA_FTYPE_MOSTLY_Q4_K_M",
    "Q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0",
    "Q3_K_M": "LLAMA_FTYPE_MOSTLY_Q3_K_M",
}


class _silenced_c_output:
    """Silence llama.cpp's quantiser: its C output (fds 1 and 2) and the log lines
    llama-cpp-python forwards to Python's sys.stderr."""

    def __enter__(self):
        import io

        sys.stdout.flush()
        sys.stderr.flush()
        self._streams = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        self._saved = [os.dup(1), os.dup(2)]
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        return self

    def __exit__(self, *exc):
        for fd, saved in zip((1, 2), self._saved):
            os.dup2(saved, fd)
            os.close(saved)
        sys.stdout, sys.stderr = self._streams
        return False


def _require_llama_cpp():
    try:
        import llama_cpp  # noqa: F401

        return llama_cpp
    except ImportError as err:
        raise FriendlyError(
            f"This needs llama-cpp-python: pip install 'llama-cpp-python[server]=={LLAMA_CPP_VERSION}' "
            "(it compiles llama.cpp; prebuilt CPU wheels: add "
            "--extra-index-url https://abetlen.github.io/llama-cpp-python/whl/cpu)") from err


def llama_cpp_source() -> Path:
    """llama.cpp's source tree as vendored in the llama-cpp-python sdist (downloaded once, hash-checked)."""
    explicit = os.environ.get("LLAMA_CPP_DIR")
    if explicit and (Path(explicit) / "convert_hf_to_gguf.py").is_file():
        return Path(explicit)
    root = standins.cache_root() / "llama-cpp-src"
    src = root / f"llama_cpp_python-{LLAMA_CPP_VERSION}" / "vendor" / "llama.cpp"
    if (src / "convert_hf_to_gguf.py").is_file():
        return src
    root.mkdir(parents=True, exist_ok=True)
    tarball = root / f"llama_cpp_python-{LLAMA_CPP_VERSION}.tar.gz"
    if not tarball.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            f"llama-cpp-python=={LLAMA_CPP_VERSION}", "-d", str(root)],
                           capture_output=True, text=True)
        if not tarball.is_file():
            raise FriendlyError("Could not download llama.cpp's converter (the llama-cpp-python source "
                                "distribution); set LLAMA_CPP_DIR to a llama.cpp checkout instead.")
    if hashlib.sha256(tarball.read_bytes()).hexdigest() != LLAMA_CPP_SDIST_SHA256:
        raise FriendlyError(f"{tarball.name} does not have the checked SHA-256; delete it and retry.")
    with tarfile.open(tarball) as tf:
        members = [m for m in tf.getmembers() if "/vendor/llama.cpp/" in m.name and
                   ("/gguf-py/" in m.name or m.name.endswith(("convert_hf_to_gguf.py",)) or "/conversion/" in m.name)]
        tf.extractall(root, members=members, filter="data")
    return src


def convert(model_dir: str | os.PathLike, out: str | os.PathLike, outtype: str = "f16",
            src: str | os.PathLike | None = None) -> Path:
    """Run llama.cpp's convert_hf_to_gguf.py (from `src`, default: llama_cpp_source()) on a transformers folder."""
    out = Path(out)
    if out.is_file():
        return out
    src = Path(src) if src else llama_cpp_source()
    tmp = out.with_suffix(".tmp")
    r = subprocess.run([sys.executable, str(src / "convert_hf_to_gguf.py"), str(model_dir),
                        "--outtype", outtype, "--outfile", str(tmp)], capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise FriendlyError(f"llama.cpp's converter failed: {last}")
    tmp.rename(out)
    return out


def quantize(f16: str | os.PathLike, out: str | os.PathLike, quant: str = "Q4_K_M",
             threads: int | None = None, pure: bool = False) -> Path:
    """Quantise an F16 GGUF with llama.cpp's own quantiser (llama_model_quantize).

    `pure=True` is `llama-quantize --pure`: every matrix, the output layer included, gets
    `quant`; by default llama.cpp keeps the output layer (and, for mixes like Q4_K_M, some
    other tensors) at higher precision.
    """
    llama_cpp = _require_llama_cpp()
    if quant not in QUANT_TYPES:
        raise FriendlyError(f"Unknown quantisation {quant!r}; choose one of {list(QUANT_TYPES)}.")
    out = Path(out)
    if out.is_file():
        return out
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, QUANT_TYPES[quant])
    params.nthread = threads or os.cpu_count() or 1
    params.pure = bool(pure)
    tmp = out.with_suffix(".tmp")
    with _silenced_c_output():
        rc = llama_cpp.llama_model_quantize(str(f16).encode(), str(tmp).encode(), ctypes.byref(params))
    if rc != 0:
        raise FriendlyError(f"llama.cpp could not quantise to {quant}.")
    tmp.rename(out)
    return out


def locate_gguf(model_id: str, quant: str = "Q4_K_M", path: str | os.PathLike | None = None,
                quiet: bool = False) -> Path:
    """A GGUF file of `model_id` at `quant`: yours, the official one, or a converted stand-in."""
    model = catalog.find_model(model_id)
    quant = quant.upper()
    given = path or os.environ.get("CNLLM_GGUF")
    if given:
        p = Path(given).expanduser()
        if not p.is_file():
            raise FriendlyError(f"No GGUF file at {p.name!r}.")
        message, result = f"{model.id} ({quant}): your GGUF file {p.name!r}.", p
    elif loading.hub_reachable() and model.gguf_repo:
        from huggingface_hub import HfApi, hf_hub_download

        files = [f for f in HfApi().list_repo_files(model.gguf_repo) if f.endswith(".gguf")]
        match = [f for f in files if quant.lower() in f.lower()]
        if not match:
            raise FriendlyError(f"{model.gguf_repo} has no {quant} file; it has {files}.")
        result = Path(hf_hub_download(model.gguf_repo, match[0]))
        message = f"{model.id} ({quant}): {match[0]} from the official repository {model.gguf_repo}."
    else:
        src = loading.locate(model.id, quiet=True)
        folder = Path(src.path)
        f16 = convert(folder, folder / "model-F16.gguf")
        result = f16 if quant == "F16" else quantize(f16, folder / f"model-{quant}.gguf", quant)
        message = (f"{model.id} ({quant}): offline, so this is the STAND-IN converted with llama.cpp's "
                   f"convert_hf_to_gguf.py and quantised to {quant} (random weights: its text is noise).")
    if not quiet:
        print(message)
    return result
