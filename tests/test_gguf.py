"""cnllm.gguf: llama.cpp's own converter and quantiser on a stand-in (needs llama-cpp-python)."""

import sys

import pytest

from cnllm import gguf
from cnllm.errors import FriendlyError


def _tensor_types(path):
    sys.path.insert(0, str(gguf.llama_cpp_source() / "gguf-py"))
    try:
        import gguf as gguf_py  # llama.cpp's reader, shipped in the same source distribution
    finally:
        sys.path.pop(0)
    return {t.name: t.tensor_type.name for t in gguf_py.GGUFReader(str(path)).tensors}


@pytest.fixture(scope="module")
def f16():
    return gguf.locate_gguf("Qwen/Qwen3-0.6B", "F16", quiet=True)


def test_default_quantisation_keeps_the_output_layer_at_higher_precision(f16, tmp_path):
    types = _tensor_types(gguf.quantize(f16, tmp_path / "q4_0.gguf", "Q4_0"))
    assert types["blk.0.ffn_up.weight"] == "Q4_0"
    assert types["token_embd.weight"] not in {"Q4_0", "F16"}  # tied embeddings = the output layer


def test_pure_quantisation_puts_every_matrix_at_the_chosen_type(f16, tmp_path):
    types = _tensor_types(gguf.quantize(f16, tmp_path / "q4_0-pure.gguf", "Q4_0", pure=True))
    matrices = {n: t for n, t in types.items() if not n.endswith("norm.weight")}
    assert matrices and set(matrices.values()) == {"Q4_0"}


def test_unknown_quantisation_names_the_choices(f16, tmp_path):
    with pytest.raises(FriendlyError, match="Q4_K_M"):
        gguf.quantize(f16, tmp_path / "x.gguf", "Q4_X")
