"""Offline stand-ins: tiny models of a family's real architecture, with random weights.

When the real weights cannot be downloaded, the book still runs every line of a
chapter. A stand-in is built from the real architecture's config class
(``AutoConfig.for_model(model_type)``) with tiny dimensions and seeded random weights,
paired with the family's real tokenizer where a trusted package ships one (otherwise a
named substitute) and the family's real chat template, and saved as an ordinary model
folder. From there the chapter loads it with the very same ``AutoTokenizer`` /
``AutoModelForCausalLM.from_pretrained`` calls a reader uses for the real model.

Its generated text is noise: the weights are random. Everything around the weights
(templates, special tokens, generation, streaming, serving) is real.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import catalog, tokenizers

TEMPLATES_DIR = Path(__file__).parent / "templates"
RECIPE_VERSION = 4  # bump when the recipe below changes, so caches rebuild

# Tiny dimensions shared by every stand-in; architecture-specific names are shrunk too.
TINY = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "max_position_embeddings": 4096,
    # wide random weights, so the noise a stand-in writes varies from token to token
    "initializer_range": 0.5,
}
# Names some architectures use for the same idea, shrunk where present.
TINY_OPTIONAL = {
    "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 64,
    "num_experts": 4,
    "n_routed_experts": 4,
    "num_local_experts": 4,
    "moe_num_experts": 4,
    "num_experts_per_tok": 2,
    "moe_k": 2,
    "n_shared_experts": 1,
    "n_group": 1,
    "topk_group": 1,
    "first_k_dense_replace": 1,
    "kv_lora_rank": 16,
    "q_lora_rank": 32,
    "qk_rope_head_dim": 16,
    "qk_nope_head_dim": 16,
    "v_head_dim": 16,
    "linear_num_key_heads": 2,
    "linear_num_value_heads": 4,
    "linear_key_head_dim": 16,
    "linear_value_head_dim": 16,
    "sliding_window": 4096,
}
MLA_TYPES = {"deepseek_v2", "deepseek_v3", "deepseek_v32", "deepseek_v4", "kimi_k2",
             "glm4_moe_lite", "glm_moe_dsa", "longcat_flash", "minicpm3", "kimi_linear"}


def cache_root() -> Path:
    """Where stand-ins are kept: $CNLLM_CACHE, else ~/.cache/cnllm."""
    root = os.environ.get("CNLLM_CACHE") or Path.home() / ".cache" / "cnllm"
    return Path(root)


def read_template(name: str) -> str:
    path = TEMPLATES_DIR / f"{name}.jinja"
    if not path.is_file():
        known = sorted(p.stem for p in TEMPLATES_DIR.glob("*.jinja"))
        raise catalog.CatalogError(f"No chat template named {name!r}; the book ships {known}.")
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Recipe:
    """Everything that decides what a stand-in folder contains."""

    model_id: str
    model_type: str
    tokenizer: str
    chat_template: str
    overrides: tuple
    special_tokens: tuple
    stop_tokens: tuple
    bos_token: str | None
    eos_token: str | None
    pad_token: str | None

    @classmethod
    def for_model(cls, model_id: str) -> "Recipe":
        model = catalog.find_model(model_id)
        fam = catalog.family(model.family)
        if fam.standin is None:
            raise catalog.CatalogError(f"The catalog has no stand-in recipe for {fam.name}.")
        s = fam.standin
        # the chapter model may carry its own overrides; other models of the family share the tokenizer/template
        return cls(model.id, model.model_type, s.tokenizer, s.chat_template,
                   tuple(sorted((s.config_overrides or {}).items())) if model.id == s.model else (),
                   tuple(s.special_tokens), tuple(s.stop_tokens), s.bos_token, s.eos_token, s.pad_token)

    @property
    def digest(self) -> str:
        text = json.dumps([RECIPE_VERSION, self.__dict__], sort_keys=True, default=str)
        text += read_template(self.chat_template)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def is_substitute_tokenizer(self) -> bool:
        return self.tokenizer.startswith("substitute:")

    @property
    def tokenizer_description(self) -> str:
        base = self.tokenizer.split(":", 1)[-1]
        if self.is_substitute_tokenizer:
            extra = ", plus this family's special tokens" if self.special_tokens else ""
            return f"a substitute tokenizer: {tokenizers.DESCRIPTIONS[base]}{extra}"
        return tokenizers.DESCRIPTIONS[base]


def _tiny_config(recipe: Recipe, vocab_size: int, special_ids: dict):
    from transformers import AutoConfig

    cfg = AutoConfig.for_model(recipe.model_type)
    values = dict(TINY)
    for name, value in TINY_OPTIONAL.items():
        if hasattr(cfg, name) and getattr(cfg, name) is not None:
            values[name] = value
    if recipe.model_type in MLA_TYPES:
        # multi-head latent attention: every head has its own K/V, head_dim = rope dim
        values["num_key_value_heads"] = values["num_attention_heads"]
        values["head_dim"] = values.get("qk_rope_head_dim", 16)
    if getattr(cfg, "layer_types", None) is not None:
        # hybrid models (linear + full attention): keep the real pattern's kinds, 4 layers
        kinds = list(dict.fromkeys(cfg.layer_types))
        layers = (kinds * 4)[:4] if len(kinds) > 1 else kinds * 2
        values["num_hidden_layers"] = len(layers)
        values["layer_types"] = layers
    values.update(dict(recipe.overrides))
    values["vocab_size"] = vocab_size
    values.update({k: v for k, v in special_ids.items() if v is not None})
    values["tie_word_embeddings"] = True
    values["dtype"] = "float32"
    return AutoConfig.for_model(recipe.model_type, **values)


def _build(recipe: Recipe, folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    base = recipe.tokenizer.split(":", 1)[-1]
    kwargs = {"chat_template": read_template(recipe.chat_template)}
    if base == "qwen":
        kwargs.update(extra_tokens=recipe.special_tokens,
                      bos_token=recipe.bos_token,
                      eos_token=recipe.eos_token or "<|im_end|>",
                      pad_token=recipe.pad_token or "<|endoftext|>")
    tokenizers.build(base, folder, **kwargs)
    tok = AutoTokenizer.from_pretrained(folder)
    vocab = ((len(tok) + 63) // 64) * 64
    stops = {tok.eos_token_id, tok.convert_tokens_to_ids("<|endoftext|>")}
    stops |= {tok.convert_tokens_to_ids(t) for t in recipe.stop_tokens}
    eos_ids = [i for i in stops if isinstance(i, int) and i < len(tok) and i != tok.unk_token_id]
    special = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id}
    config = _tiny_config(recipe, vocab, special)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tok.bos_token_id, eos_token_id=sorted(eos_ids) or None,
        pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
    )
    model.save_pretrained(folder)
    (folder / "STANDIN.json").write_text(json.dumps({
        "stands_in_for": recipe.model_id,
        "model_type": recipe.model_type,
        "tokenizer": recipe.tokenizer_description,
        "chat_template": f"{recipe.chat_template}.jinja",
        "parameters": sum(p.numel() for p in model.parameters()),
        "note": "Random weights: this model's text is noise. Only its architecture, tokenizer and template are real.",
    }, indent=1), encoding="utf-8")


def standin_path(model_id: str) -> Path:
    recipe = Recipe.for_model(model_id)
    slug = recipe.model_id.replace("/", "--")
    return cache_root() / "standins" / f"{slug}-{recipe.digest}"


def build_standin(model_id: str, quiet: bool = False) -> Path:
    """The folder of `model_id`'s stand-in, built once and cached."""
    recipe = Recipe.for_model(model_id)
    folder = standin_path(recipe.model_id)
    if (folder / "STANDIN.json").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=folder.parent))
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # nothing is downloaded: no bars
    try:
        _build(recipe, tmp)
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first
            if not (folder / "STANDIN.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if bars:
            hf_logging.enable_progress_bar()
    if not quiet:
        # durations vary by machine, so this goes to the log, not to stored outputs
        import logging
        logging.getLogger("cnllm").info("built stand-in for %s in %.1f s", model_id, time.perf_counter() - start)
    return folder


def describe(folder: Path) -> dict:
    """The STANDIN.json record of a stand-in folder (empty for a real model)."""
    path = Path(folder) / "STANDIN.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
