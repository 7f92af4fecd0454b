"""The generated tables and the chat widget."""
import pytest

import cnllm
from cnllm import book, catalog


def test_landscape_has_one_row_per_family():
    text = book.landscape().data
    rows = [r for r in text.splitlines() if r.startswith("| **")]
    assert len(rows) == len(catalog.families())
    for fam in catalog.families():
        assert f"**{fam.name}** {fam.chinese_name}" in text


@pytest.mark.parametrize("family", [f.key for f in catalog.families()])
def test_every_chapter_table_renders(family):
    fam = catalog.family(family)
    assert fam.chapter_model.id in book.hardware_note(family).data
    access = book.access(family).data
    for m in fam.models:
        assert m.id in access
    for a in fam.apis:
        assert a.base_url in access and a.key_env in access
    assert book.fits_table(family).data.count("\n| ") >= len(fam.models)
    assert "checked" in book.sources(family).data


def test_scale_out_commands_for_a_model_bigger_than_one_gpu():
    text = book.scale_out("qwen").data
    assert "vllm serve Qwen/Qwen3-235B-A22B-Instruct-2507 --tensor-parallel-size 8" in text
    assert "python -m sglang.launch_server --model-path Qwen/Qwen3-235B-A22B-Instruct-2507" in text


def test_chat_box_streams_and_keeps_the_conversation():
    tok, model, _ = cnllm.load("Qwen/Qwen3-0.6B", quiet=True)
    box = cnllm.chat_box(model=model, tokenizer=tok, system="Be brief.", max_new_tokens=5,
                         template_kwargs={"enable_thinking": False}, do_sample=False)
    first = box.send("Hello")
    second = box.send("Again")
    assert first and second
    assert [m["role"] for m in box.messages] == ["system", "user", "assistant", "user", "assistant"]
    assert "You:</b> Hello" in box.log.value
    box.clear()
    assert [m["role"] for m in box.messages] == ["system"]
    assert box.send("   ") == ""


def test_chat_box_needs_a_model_or_an_endpoint():
    with pytest.raises(cnllm.FriendlyError, match="endpoint="):
        cnllm.chat_box()
