"""Typed access to the book's facts.

Every fact the book shows (a chatbot URL, an API base URL, a model id, a licence)
lives once, in ``cnllm/catalog/<family>.yaml``, with the URL it came from and the
date it was checked. This module reads those files into dataclasses and answers
look-ups with one clear sentence when something is not there.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .errors import FriendlyError

CATALOG_DIR = Path(__file__).parent / "catalog"


class CatalogError(FriendlyError, LookupError):
    """A look-up in the catalog failed; the message says what would have matched."""


@dataclass(frozen=True)
class Sourced:
    """Mixin fields: where a fact was read and when."""

    source: str
    checked: _dt.date


@dataclass(frozen=True)
class Chatbot:
    name: str
    url: str
    signup: str
    source: str
    checked: _dt.date


@dataclass(frozen=True)
class Api:
    key: str
    name: str
    region: str
    base_url: str
    openai_compatible: bool
    key_env: str
    models: tuple[str, ...]
    example_model: str
    source: str
    checked: _dt.date
    sdk: str | None = None
    key_url: str | None = None
    quirks: str | None = None
    family: str = ""


@dataclass(frozen=True)
class ModelConfig:
    """The few numbers of a model's config.json the planner needs."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    head_dim: int | None = None
    intermediate_size: int | None = None
    kv_lora_rank: int | None = None  # MLA (DeepSeek-style) caches a compressed KV
    qk_rope_head_dim: int | None = None
    full_attention_layers: int | None = None  # hybrid linear-attention models


@dataclass(frozen=True)
class Model:
    id: str
    params_b: float
    model_type: str
    kind: str
    license: str
    context: int
    source: str
    checked: _dt.date
    modelscope: str | None = None
    active_params_b: float | None = None
    trust_remote_code: bool = False
    revision: str = "main"
    released: str | None = None
    weights_dtype: str = "bf16"
    config: ModelConfig | None = None
    gguf_repo: str | None = None  # the publisher's own GGUF repository on the Hub, if any
    notes: str | None = None
    family: str = ""

    @property
    def hf_url(self) -> str:
        return f"https://huggingface.co/{self.id}"

    @property
    def modelscope_url(self) -> str | None:
        return f"https://modelscope.cn/models/{self.modelscope}" if self.modelscope else None

    @property
    def is_moe(self) -> bool:
        return self.active_params_b is not None and self.active_params_b < self.params_b


@dataclass(frozen=True)
class License:
    key: str
    name: str
    url: str
    summary: str
    source: str
    checked: _dt.date
    osi_approved: bool = False


@dataclass(frozen=True)
class Standin:
    """How the offline stand-in of the family's chapter model is built."""

    model: str
    tokenizer: str
    chat_template: str
    tokenizer_note: str = ""
    config_overrides: dict = field(default_factory=dict, hash=False)
    # for a substitute tokenizer: tokens the family's template needs, and its specials
    special_tokens: tuple[str, ...] = ()
    stop_tokens: tuple[str, ...] = ()  # extra tokens that end a reply (added to generation_config)
    bos_token: str | None = None
    eos_token: str | None = None
    pad_token: str | None = None


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    checked: _dt.date


@dataclass(frozen=True)
class Family:
    key: str
    name: str
    chinese_name: str
    company: str
    company_chinese: str
    summary: str
    homepage: str
    source: str
    checked: _dt.date
    chatbot: Chatbot | None
    apis: tuple[Api, ...]
    models: tuple[Model, ...]
    standin: Standin | None
    sources: tuple[Source, ...] = ()
    quirks: tuple[str, ...] = ()
    order: int = 100

    def model(self, model_id: str) -> Model:
        return find_model(model_id, within=self.models)

    def api(self, key: str | None = None) -> Api:
        if not self.apis:
            raise CatalogError(f"The catalog records no API for {self.name}.")
        if key is None:
            return self.apis[0]
        for a in self.apis:
            if a.key == key:
                return a
        raise CatalogError(_unknown("API", key, [a.key for a in self.apis]))

    @property
    def chapter_model(self) -> Model:
        """The model the family's chapter runs locally (smallest chat model)."""
        if self.standin is None:
            raise CatalogError(f"The catalog names no local model for {self.name}.")
        return self.model(self.standin.model)


def _unknown(what: str, name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.4)
    if not close:  # fall back to a case-insensitive substring match
        low = name.lower().split("/")[-1]
        close = [c for c in choices if low and (low in c.lower() or c.lower().split("/")[-1] in low)][:3]
    if close:
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?"
    elif len(choices) <= 12:
        hint = f" Choose one of {', '.join(repr(c) for c in choices)}."
    else:
        hint = ""
    return f"Unknown {what} {name!r}: it is not in the book's catalog.{hint}"


# ---------------------------------------------------------------- parsing ---

def _date(value: Any, where: str) -> _dt.date:
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError as err:
        raise ValueError(f"{where}: 'checked' must be a date (YYYY-MM-DD), got {value!r}") from err


def _build(cls, data: dict, where: str, **extra):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)} for {cls.__name__}")
    kwargs = dict(data, **extra)
    if "checked" in kwargs:
        kwargs["checked"] = _date(kwargs["checked"], where)
    for key, value in kwargs.items():
        if isinstance(value, list):
            kwargs[key] = tuple(value)
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ValueError(f"{where}: {err}") from err


def _parse_family(data: dict, path: Path) -> Family:
    key = data["key"]
    where = f"{path.name}"
    chatbot = _build(Chatbot, data["chatbot"], f"{where} chatbot") if data.get("chatbot") else None
    apis = tuple(
        _build(Api, a, f"{where} api {a.get('key')}", family=key) for a in data.get("apis", [])
    )
    models = []
    for m in data.get("models", []):
        m = dict(m)
        cfg = m.pop("config", None)
        model = _build(Model, m, f"{where} model {m.get('id')}", family=key,
                       config=_build(ModelConfig, cfg, f"{where} model {m.get('id')} config") if cfg else None)
        models.append(model)
    standin = _build(Standin, data["standin"], f"{where} standin") if data.get("standin") else None
    sources = tuple(_build(Source, s, f"{where} sources") for s in data.get("sources", []))
    rest = {k: v for k, v in data.items() if k not in {"chatbot", "apis", "models", "standin", "sources", "licenses"}}
    return _build(Family, rest, where, chatbot=chatbot, apis=apis, models=tuple(models),
                  standin=standin, sources=sources)


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Family], dict[str, License]]:
    families: dict[str, Family] = {}
    licenses: dict[str, License] = {}
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for lkey, ldata in (data.get("licenses") or {}).items():
            licenses[lkey] = _build(License, ldata, f"{path.name} licence {lkey}", key=lkey)
        if "key" in data:
            fam = _parse_family(data, path)
            families[fam.key] = fam
    ordered = dict(sorted(families.items(), key=lambda kv: (kv[1].order, kv[0])))
    return ordered, licenses


# ---------------------------------------------------------------- look-ups ---

def families() -> list[Family]:
    """All families, in the book's order."""
    return list(_load()[0].values())


def family(key: str) -> Family:
    fams = _load()[0]
    k = key.lower().strip()
    if k in fams:
        return fams[k]
    for fam in fams.values():  # accept the display name too ("GLM", "Kimi")
        if k in {fam.name.lower(), fam.chinese_name}:
            return fam
    raise CatalogError(_unknown("family", key, list(fams)))


def all_models() -> list[Model]:
    return [m for fam in families() for m in fam.models]


def find_model(model_id: str, within=None) -> Model:
    """The catalog entry for a Hugging Face id (case-insensitive)."""
    models = list(within) if within is not None else all_models()
    for m in models:
        if m.id.lower() == model_id.lower() or (m.modelscope or "").lower() == model_id.lower():
            return m
    raise CatalogError(_unknown("model id", model_id, [m.id for m in models]))


def family_of(model_id: str) -> Family:
    return family(find_model(model_id).family)


def license(key: str) -> License:  # noqa: A001 - the natural name
    lic = _load()[1]
    if key in lic:
        return lic[key]
    raise CatalogError(_unknown("licence", key, list(lic)))


def licenses() -> dict[str, License]:
    return dict(_load()[1])


def all_apis() -> list[Api]:
    return [a for fam in families() for a in fam.apis]


def reload() -> None:
    """Forget the parsed catalog (after editing a YAML file in a session)."""
    _load.cache_clear()
