"""Keys, endpoints and the real local OpenAI-compatible server."""
import os

import pytest

import cnllm
from cnllm import api, catalog


@pytest.fixture(scope="module")
def local_base():
    """One real `transformers serve` for these tests (reused when the run already has one)."""
    base = api.local_server()
    os.environ[api.ENDPOINT_ENV] = base
    yield base


def test_hermetic_mode_ignores_keys(monkeypatch):
    monkeypatch.setenv("CNLLM_HERMETIC", "1")
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test-not-real")
    assert api.get_key("DASHSCOPE_API_KEY") is None


def test_key_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("CNLLM_HERMETIC", raising=False)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test-not-real")
    assert api.get_key("DASHSCOPE_API_KEY") == "sk-test-not-real"


def test_provider_endpoint_with_a_key_never_shows_it(monkeypatch, capsys):
    monkeypatch.delenv("CNLLM_HERMETIC", raising=False)
    secret = "sk-secret-value-123456789"
    monkeypatch.setenv("DASHSCOPE_API_KEY", secret)
    ep = cnllm.endpoint("qwen")
    shown = capsys.readouterr().out + repr(ep) + str(ep)
    assert ep.base_url == catalog.family("qwen").api("intl").base_url and not ep.is_local
    assert ep.model == "qwen-plus" and ep.api_key == secret
    assert secret not in shown and "DASHSCOPE_API_KEY" in shown


def test_regions_come_from_the_catalog(monkeypatch):
    monkeypatch.delenv("CNLLM_HERMETIC", raising=False)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-test-not-real")
    assert cnllm.endpoint("qwen", region="mainland", quiet=True).base_url.startswith("https://dashscope.aliyuncs.com")
    with pytest.raises(catalog.CatalogError, match="intl"):
        cnllm.endpoint("qwen", region="mars", quiet=True)


def test_missing_key_says_how_to_set_it_then_uses_the_local_endpoint(monkeypatch, capsys, local_base):
    monkeypatch.delenv("CNLLM_HERMETIC", raising=False)
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    ep = cnllm.endpoint("qwen")
    out = capsys.readouterr().out
    assert "No DASHSCOPE_API_KEY found" in out and "export DASHSCOPE_API_KEY=" in out
    assert "local endpoint" in out and local_base in out
    assert ep.is_local and ep.base_url == local_base


def test_local_endpoint_streams_a_real_reply(local_base):
    ep = cnllm.endpoint("qwen", quiet=True)
    client = cnllm.client(ep)
    stream = client.chat.completions.create(model=ep.model, messages=[{"role": "user", "content": "Hi"}],
                                            max_tokens=6, stream=True)
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 2  # several chunks, not one blob
    models = [m.id for m in client.models.list().data]
    assert ep.model in models


def test_local_server_is_reused_not_restarted(local_base):
    assert api.local_server() == local_base


def test_a_family_without_an_api_falls_back_and_says_why(capsys, local_base):
    fam = next((f for f in catalog.families() if not f.apis), None)
    if fam is None:
        pytest.fail("expected at least one family without a public API (Yi)")
    ep = cnllm.endpoint(fam.key)
    assert ep.is_local and "has no public API" in capsys.readouterr().out
