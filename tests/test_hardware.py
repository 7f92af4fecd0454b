"""The planner's arithmetic and its advice."""
import pytest

from cnllm import catalog, hardware
from cnllm.catalog import ModelConfig
from cnllm.errors import FriendlyError


def test_kv_cache_of_grouped_query_attention():
    # Qwen3-0.6B: 28 layers x 8 KV heads x 128 dims x (K and V) x 2 bytes
    cfg = catalog.find_model("Qwen/Qwen3-0.6B").config
    assert hardware.kv_bytes_per_token(cfg) == 2 * 28 * 8 * 128 * 2 == 114688


def test_kv_cache_of_latent_attention_is_one_compressed_vector_per_layer():
    cfg = ModelConfig(hidden_size=7168, num_hidden_layers=61, num_attention_heads=128, num_key_value_heads=128,
                      vocab_size=129280, kv_lora_rank=512, qk_rope_head_dim=64)
    assert hardware.kv_bytes_per_token(cfg) == 61 * (512 + 64) * 2


def test_kv_cache_of_hybrid_models_counts_only_full_attention_layers():
    cfg = ModelConfig(hidden_size=2048, num_hidden_layers=48, num_attention_heads=16, num_key_value_heads=2,
                      vocab_size=151936, head_dim=256, full_attention_layers=12)
    assert hardware.kv_bytes_per_token(cfg) == 2 * 12 * 2 * 256 * 2


def test_memory_estimate_adds_weights_cache_and_margin():
    est = hardware.memory_needed("Qwen/Qwen3-8B", "bf16", context=4096)
    assert est.weights_gib == pytest.approx(8.2e9 * 2 / 2**30, abs=0.01)
    assert est.kv_cache_gib == pytest.approx(2 * 36 * 8 * 128 * 2 * 4096 / 2**30, abs=0.01)
    assert est.total_gib == pytest.approx(est.weights_gib + est.kv_cache_gib + 0.1 * est.weights_gib + 0.5, abs=0.02)
    assert hardware.memory_needed("Qwen/Qwen3-8B", "int4").weights_gib < est.weights_gib / 3


def test_too_little_memory_names_a_model_that_fits():
    with pytest.raises(hardware.NotEnoughMemory) as err:
        hardware.check_fits("Qwen/Qwen3-32B", memory_gib=16)
    message = str(err.value)
    assert "Qwen/Qwen3-32B needs about" in message and "16.0 GiB" in message
    fitting = message.split(": ", 1)[1]
    suggested = [m.id for m in catalog.family("qwen").models if m.id in fitting]
    assert suggested and hardware.memory_needed(suggested[0]).total_gib <= 16


def test_a_model_that_fits_returns_its_estimate():
    assert hardware.check_fits("Qwen/Qwen3-0.6B", memory_gib=16).model_id == "Qwen/Qwen3-0.6B"


def test_gpu_counts_are_tensor_parallel_sizes():
    assert hardware.gpus_needed("Qwen/Qwen3-0.6B", "H100 80GB") == 1
    n = hardware.gpus_needed("Qwen/Qwen3-235B-A22B-Instruct-2507", "H100 80GB")
    assert n in {8, 16} and n & (n - 1) == 0
    assert hardware.gpus_needed("Qwen/Qwen3-235B-A22B-Instruct-2507", "H100 80GB", "int4") < n


def test_serve_commands_for_one_node_and_for_several():
    one = hardware.serve_command("Qwen/Qwen3-235B-A22B-Instruct-2507", "vllm", "H100 80GB")
    assert one.command.startswith("vllm serve Qwen/Qwen3-235B-A22B-Instruct-2507 --tensor-parallel-size 8")
    assert "--enable-expert-parallel" in one.command and one.nodes == 1
    many = hardware.serve_command("Qwen/Qwen3.5-397B-A17B", "sglang", "H100 80GB")
    assert many.nodes == 2 and "--tp 16 --nnodes 2" in many.command


def test_bad_planner_inputs_are_one_sentence():
    with pytest.raises(FriendlyError, match="vllm"):
        hardware.serve_command("Qwen/Qwen3-8B", engine="tgi")
    with pytest.raises(FriendlyError, match="Unknown GPU"):
        hardware.gpus_needed("Qwen/Qwen3-8B", "RTX 9090")
    with pytest.raises(FriendlyError, match="weight format"):
        hardware.memory_needed("Qwen/Qwen3-8B", "int3")


def test_device_and_dtype_on_this_cpu_machine():
    import torch

    assert hardware.pick_device() in {"cpu", "cuda", "mps"}
    if hardware.pick_device() == "cpu":
        assert hardware.pick_dtype() == torch.bfloat16
        assert hardware.this_machine().memory_gib > 1
