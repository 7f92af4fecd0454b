"""bench.kernels: the in-cache vs from-RAM kernel timing behind the CPU chapter's diagnosis."""

import pytest

from bench import kernels


def test_gbps_and_parse():
    assert kernels.gbps(2_000_000_000, 0.5) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        kernels.gbps(1, 0)
    assert kernels.parse_line("36864 0.000012500 CPU_REPACK") == (36864, 0.0000125, "CPU_REPACK")
    with pytest.raises(kernels.KernelBenchError):
        kernels.parse_line("repack: something else")


@pytest.mark.parametrize("cache, ram, limit", [(13.0, 12.5, "arithmetic"), (30.0, 24.0, "both"),
                                               (66.0, 29.0, "memory")])
def test_verdict(cache, ram, limit):
    assert kernels.verdict(cache, ram) == limit


@pytest.mark.parametrize("ggml_type", sorted(kernels.BYTES_PER_WEIGHT))
def test_matrix_sizes_are_in_cache_and_beyond_it(ggml_type):
    for target in (kernels.CACHE_BYTES, kernels.DRAM_BYTES):
        n = kernels.rows_for(ggml_type, target)
        size = n * kernels.K * kernels.BYTES_PER_WEIGHT[ggml_type]
        assert n % 64 == 0 and 0.95 * target <= size <= target
    assert kernels.CACHE_BYTES < 8 << 20 < 256 << 20 < kernels.DRAM_BYTES


def test_format_table_shape():
    rows = [{"kernel": "Q4_0", "buffer": "CPU_REPACK", "threads": 2, "cache_GBps": 30.3,
             "dram_GBps": 24.2, "limit": "both"}]
    lines = kernels.format_table(rows).splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == kernels.COLUMNS
    assert [c.strip() for c in lines[2].strip("|").split("|")] == [
        "Q4_0", "CPU_REPACK", "2", "30.3", "24.2", "1.25x", "both"]
    assert len({len(line) for line in lines}) == 1


def test_gemv_compiles_against_llama_cpp_and_times_real_kernels(tmp_path):
    exe = kernels.build(tmp_path)
    q4 = kernels.run_one(exe, n=64, threads=1, ggml_type="q4_0", repack=True, reps=3)
    assert q4["bytes"] == 64 * kernels.K * 18 // 32  # 64 rows of Q4_0 blocks (18 bytes / 32 weights)
    assert q4["seconds"] > 0 and q4["buffer"] in {"CPU", "CPU_REPACK"}
    f16 = kernels.run_one(exe, n=64, threads=1, ggml_type="f16", repack=False, reps=3)
    assert f16["bytes"] == 64 * kernels.K * 2 and f16["buffer"] == "CPU"
    with pytest.raises(kernels.KernelBenchError):
        kernels.run_one(exe, n=64, threads=1, ggml_type="q2_x", repack=False, reps=1)
