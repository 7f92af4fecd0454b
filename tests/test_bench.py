"""Pure functions of the CPU benchmark harness (bench/cpu.py): no models, no network."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ is not installed
from bench import cpu  # noqa: E402


def test_untied_model_reads_head_not_embedding_table():
    tensors = {"model.embed_tokens.weight": 1000, "lm_head.weight": 1000,
               "model.layers.0.mlp.up_proj.weight": 300, "model.norm.weight": 2}
    got = cpu.weight_bytes_read(tensors, "model.embed_tokens.weight", "lm_head.weight")
    assert got == 1000 + 300 + 2


def test_tied_model_counts_shared_table_once():
    tensors = {"token_embd.weight": 1000, "blk.0.ffn_up.weight": 300}
    assert cpu.weight_bytes_read(tensors, "token_embd.weight", "output.weight") == 1300


def test_missing_embedding_is_an_error():
    with pytest.raises(KeyError):
        cpu.weight_bytes_read({"x": 1}, "token_embd.weight", "output.weight")


def test_qwen3_0_6b_weight_bytes_match_published_size():
    """Qwen3-0.6B: 0.60 B parameters with tied embeddings -> ~1.19 GB read per token in bf16."""
    c = cpu.ARCHITECTURES["qwen3-0.6b"]["config"]
    h, i, L, v, d = (c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"],
                     c["vocab_size"], c["head_dim"])
    q, kv = c["num_attention_heads"] * d, c["num_key_value_heads"] * d
    per_layer = h * q + 2 * h * kv + q * h + 3 * h * i + 2 * h + 2 * d
    tensors = {f"l{n}": per_layer * 2 for n in range(L)}
    tensors["model.embed_tokens.weight"] = v * h * 2
    tensors["model.norm.weight"] = h * 2
    params = sum(tensors.values()) // 2
    assert 0.59e9 < params < 0.61e9
    read = cpu.weight_bytes_read(tensors, "model.embed_tokens.weight", "lm_head.weight")
    assert read == params * 2


def test_kv_cache_bytes():
    # Qwen3-0.6B, bf16: 2 (K,V) * 28 layers * 8 heads * 128 dims * 2 bytes = 114,688 B/position
    assert cpu.kv_cache_bytes(28, 8, 128, 1, 2) == 114_688
    assert cpu.kv_cache_bytes(28, 8, 128, 100, 2) == 11_468_800


def test_mean_context():
    assert cpu.mean_context(30, 64) == 62
    assert cpu.mean_context(30, 1) == 30


def test_bound_and_percent():
    bound = cpu.bound_tokens_per_s(20e9, 1.0e9)
    assert bound == pytest.approx(20.0)
    assert cpu.percent_of_bound(15.0, bound) == pytest.approx(75.0)
    with pytest.raises(ValueError):
        cpu.bound_tokens_per_s(20e9, 0)


def test_decode_rate_excludes_prefill():
    # first token at t=5 (after a long prefill), then one token every 0.1 s
    times = [5.0 + 0.1 * k for k in range(11)]
    assert cpu.decode_rate(times) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        cpu.decode_rate([1.0])


def test_human_bytes():
    assert cpu.human_bytes(None) == "-"
    assert cpu.human_bytes(999) == "999 B"
    assert cpu.human_bytes(1_192_000_000) == "1.19 GB"


def _row(**kw):
    row = {"model": "Qwen3-0.6B", "path": "llama.cpp", "format": "Q4_K_M",
           "weight_bytes": 400_000_000, "bytes_per_token": 410_000_000, "tok_s": 30.0, "bound_tok_s": 40.0,
           "pct_of_bound": 75.0, "ttft_s": 0.2, "peak_rss_bytes": 600_000_000}
    row.update(kw)
    return row


def test_format_table_shape_and_values():
    text = cpu.format_table([_row(), _row(path="transformers", format="bf16", tok_s=9.5,
                                         pct_of_bound=31.4)])
    lines = text.splitlines()
    assert len(lines) == 4
    assert [c.strip() for c in lines[0].strip("|").split("|")] == cpu.COLUMNS
    assert set(lines[1]) <= set("|-:")
    assert len({len(line) for line in lines}) == 1  # aligned
    first = [c.strip() for c in lines[2].strip("|").split("|")]
    assert first == ["Qwen3-0.6B", "llama.cpp", "Q4_K_M", "400.00 MB", "30.0", "40.0", "75 %",
                     "12.3", "200 ms", "600.00 MB"]
    assert "31 %" in lines[3]


def test_format_table_marks_skipped_rows():
    text = cpu.format_table([_row(error="llama_cpp is not installed")])
    assert "skipped" in text.splitlines()[2]


def test_summarize_takes_medians_and_ratio():
    res = {"runs": [{"tok_s": 10.0, "ttft_s": 0.3}, {"tok_s": 30.0, "ttft_s": 0.1},
                    {"tok_s": 20.0, "ttft_s": 0.2}],
           "peak_rss_bytes": 1, "load_s": 0.5, "warmup_s": 1.0}
    row = cpu.summarize("m", "p", "f", res, weight_bytes=900, kv_bytes=100, bandwidth=40_000)
    assert row["tok_s"] == 20.0 and row["ttft_s"] == 0.2
    assert row["bytes_per_token"] == 1000
    assert row["bound_tok_s"] == pytest.approx(40.0)
    assert row["pct_of_bound"] == pytest.approx(50.0)
    assert row["read_GBps"] == pytest.approx(20.0 * 1000 / 1e9)  # tok/s x bytes per token
    assert row["run_spread"] == pytest.approx(3.0)  # 30 / 10: flagged as noisy
    assert row["run_spread"] > cpu.NOISY_SPREAD
    err = cpu.summarize("m", "p", "f", {"error": "boom"}, 900, 100, 40_000)
    assert err["error"] == "boom" and "tok_s" not in err


def test_command_line_drops_paths():
    got = cpu.command_line(["--quick", "--out", "/home/x/r.json", "--cache-dir=/tmp/c",
                            "--tokens", "8"])
    assert got == "python -m bench.cpu --quick --tokens 8"


def test_committed_results_hold_no_machine_paths():
    path = cpu.DEFAULT_OUT
    if not path.exists():
        pytest.skip("no committed results yet")
    text = path.read_text()
    data = json.loads(text)
    assert {"machine", "versions", "bandwidth", "results", "date"} <= set(data)
    for marker in ("/home/", "/tmp/", "/root/", "/Users/", "\\\\Users\\\\", "/work/"):
        assert marker not in text


def test_interleaved_runs_are_pooled_and_errors_win():
    one = {"runs": [{"tok_s": 40.0, "ttft_s": 0.2}], "load_s": 0.5, "warmup_s": 1.0,
           "peak_rss_bytes": 100, "load_average_before": 0.7}
    two = {"runs": [{"tok_s": 50.0, "ttft_s": 0.3}], "load_s": 0.7, "warmup_s": 1.2,
           "peak_rss_bytes": 300}
    got = cpu.combine_interleaved([one, two, dict(one)])
    assert [r["tok_s"] for r in got["runs"]] == [40.0, 50.0, 40.0]
    assert got["peak_rss_bytes"] == 300 and got["load_s"] == 0.5
    row = cpu.summarize("m", "p", "f", got, weight_bytes=900, kv_bytes=100, bandwidth=40_000)
    assert row["tok_s"] == 40.0  # the median of the pooled runs
    assert cpu.combine_interleaved([one, {"error": "boom"}]) == {"error": "boom"}
