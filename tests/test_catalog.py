"""The catalog: its schema holds, every fact has a source, look-ups fail helpfully."""
import datetime as dt
import re

import pytest
import yaml

from cnllm import catalog
from cnllm.catalog import CATALOG_DIR, CatalogError
from cnllm.standins import TEMPLATES_DIR

TODAY = dt.date(2026, 11, 29)
FAMILIES = ["qwen", "deepseek", "kimi", "glm", "ernie", "seed", "yi"]
URL = re.compile(r"^https://[a-z0-9.-]+\.[a-z]{2,}(/\S*)?$")


def sourced_blocks():
    """Every dict in every catalog file that has a 'source' or must have one."""
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "key" in data:
            yield path.name, "family", data
            if data.get("chatbot"):
                yield path.name, "chatbot", data["chatbot"]
            for a in data.get("apis", []):
                yield path.name, f"api {a.get('key')}", a
            for m in data.get("models", []):
                yield path.name, f"model {m.get('id')}", m
            for s in data.get("sources", []):
                yield path.name, f"source {s.get('title')}", s
        for k, lic in (data.get("licenses") or {}).items():
            yield path.name, f"licence {k}", lic


def test_all_families_present_in_book_order():
    keys = [f.key for f in catalog.families()]
    assert set(FAMILIES) <= set(keys)
    assert keys[0] == "qwen"


@pytest.mark.parametrize("where,what,block", list(sourced_blocks()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_fact_has_an_https_source_and_a_checked_date(where, what, block):
    url = block.get("source") or block.get("url")
    assert url and URL.match(url), f"{where} {what}: source must be an https URL, got {url!r}"
    checked = block.get("checked")
    assert isinstance(checked, dt.date), f"{where} {what}: 'checked' must be a date"
    assert dt.date(2024, 1, 1) <= checked <= TODAY


def test_models_are_well_formed():
    ids = [m.id for m in catalog.all_models()]
    assert len(ids) == len(set(ids)), "a model id appears twice"
    for m in catalog.all_models():
        assert re.match(r"^[\w.-]+/[\w.-]+$", m.id), m.id
        assert m.params_b > 0 and m.context >= 2048
        assert m.license in catalog.licenses(), f"{m.id}: unknown licence {m.license}"
        if m.active_params_b is not None:
            assert m.active_params_b <= m.params_b, m.id
        if m.config is not None:
            c = m.config
            assert c.num_attention_heads % c.num_key_value_heads == 0 or c.kv_lora_rank, m.id


def test_apis_are_well_formed():
    for a in catalog.all_apis():
        assert URL.match(a.base_url), a.base_url
        assert re.match(r"^[A-Z][A-Z0-9_]+$", a.key_env), a.key_env
        assert a.example_model in a.models, f"{a.family}/{a.key}: example model not in its list"


def test_every_family_has_a_runnable_chapter_model_with_a_real_template():
    for fam in catalog.families():
        assert fam.standin is not None, fam.key
        m = fam.chapter_model
        assert m.family == fam.key
        assert (TEMPLATES_DIR / f"{fam.standin.chat_template}.jinja").is_file()
        tok = fam.standin.tokenizer
        assert tok in {"qwen", "deepseek_v3"} or tok.startswith("substitute:"), tok
        if tok.startswith("substitute:"):
            assert fam.standin.tokenizer_note, f"{fam.key}: a substitute tokenizer needs a note saying why"


def test_unknown_model_id_names_the_closest_matches():
    with pytest.raises(CatalogError) as err:
        catalog.find_model("Qwen/Qwen3-0.7B")
    message = str(err.value)
    assert "not in the book's catalog" in message and "Qwen/Qwen3-0.6B" in message
    assert "\n" not in message


def test_unknown_family_names_the_closest_matches():
    with pytest.raises(CatalogError, match="deepseek"):
        catalog.family("deepsek")


def test_family_lookup_accepts_display_and_chinese_names():
    assert catalog.family("Qwen").key == "qwen"
    assert catalog.family("通义千问").key == "qwen"


def test_unknown_fields_are_rejected(tmp_path, monkeypatch):
    bad = yaml.safe_load((CATALOG_DIR / "qwen.yaml").read_text(encoding="utf-8"))
    bad["models"][0]["paramz_b"] = 1
    (tmp_path / "qwen.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(catalog, "CATALOG_DIR", tmp_path)
    catalog.reload()
    try:
        with pytest.raises(ValueError, match="paramz_b"):
            catalog.families()
    finally:
        monkeypatch.undo()
        catalog.reload()
