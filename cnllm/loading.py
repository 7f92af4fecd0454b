"""Where a model's files come from: a local folder, the Hugging Face Hub, or a stand-in.

``locate(model_id)`` decides, in this order, and prints one line saying which it took:

1. a local folder the reader named (the ``local_dir`` argument, or the ``CNLLM_MODEL_DIR``
   environment variable) — for weights already on disk, e.g. from ModelScope;
2. the Hugging Face Hub (or the mirror in ``HF_ENDPOINT``) when it answers within a few
   seconds — the real weights, at the catalog's pinned revision;
3. an offline stand-in otherwise (or when ``HF_HUB_OFFLINE=1``): see ``standins``.

The result is a path or Hub id that the chapter passes to the ordinary
``AutoTokenizer.from_pretrained`` / ``AutoModelForCausalLM.from_pretrained`` calls.
"""
from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import catalog, standins
from .errors import FriendlyError

HUB_PROBE_TIMEOUT_S = 3.0
LOCAL_DIR_ENV = "CNLLM_MODEL_DIR"
_probe_cache: dict[str, bool] = {}


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _quiet_progress_bars() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """Whether the Hub (or its mirror) answers; False at once when HF_HUB_OFFLINE is set."""
    if _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("TRANSFORMERS_OFFLINE")):
        return False
    url = hub_endpoint() + "/api/models/Qwen/Qwen3-0.6B"
    if url not in _probe_cache:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
                _probe_cache[url] = True
        except urllib.error.HTTPError as err:  # the server answered: it is reachable
            _probe_cache[url] = err.code < 500
        except Exception:  # DNS failure, refused, timed out: offline
            _probe_cache[url] = False
    return _probe_cache[url]


@dataclass(frozen=True)
class ModelSource:
    """Where a model will be loaded from. Pass ``path`` and ``**kwargs`` to from_pretrained."""

    model_id: str
    kind: str  # "local" | "hub" | "standin"
    path: str
    revision: str | None = None
    description: str = ""

    @property
    def kwargs(self) -> dict:
        return {"revision": self.revision} if self.revision else {}

    @property
    def is_standin(self) -> bool:
        return self.kind == "standin"

    def __str__(self) -> str:  # never shows a machine-specific path
        return self.description

    def _repr_pretty_(self, printer, cycle):  # IPython display
        printer.text(self.description)


def _find_local(model_id: str, local_dir: str | os.PathLike | None) -> Path | None:
    root = local_dir or os.environ.get(LOCAL_DIR_ENV)
    if not root:
        return None
    root = Path(root).expanduser()
    name = model_id.split("/")[-1]
    for candidate in (root, root / model_id, root / name, root / model_id.replace("/", "--")):
        if (candidate / "config.json").is_file():
            return candidate
    if local_dir:  # the reader named this folder explicitly: say what is wrong with it
        raise FriendlyError(
            f"No model found in {root.name!r}: expected config.json there or in a subfolder named "
            f"{name!r}. Download it, e.g. `modelscope download --model {model_id} --local_dir <folder>`."
        )
    return None


def locate(model_id: str, local_dir: str | os.PathLike | None = None, quiet: bool = False) -> ModelSource:
    """Decide where `model_id` comes from, and say so in one line."""
    entry = None
    try:
        entry = catalog.find_model(model_id)
        model_id = entry.id
    except catalog.CatalogError as err:
        unknown = err
    local = _find_local(model_id, local_dir)
    if local is not None:
        src = ModelSource(model_id, "local", str(local),
                          description=f"{model_id}: real weights from the local folder {local.name!r}.")
    elif hub_reachable():
        if entry is None:
            print(f"Note: {unknown} Loading it from the Hub anyway.")
        revision = entry.revision if entry and entry.revision != "main" else None
        pin = f" at revision {revision[:10]}" if revision else ""
        src = ModelSource(model_id, "hub", model_id, revision,
                          description=f"{model_id}: real weights from the Hugging Face Hub ({hub_endpoint()}){pin}.")
    else:
        if entry is None:
            raise FriendlyError(f"{unknown} Offline, only catalog models have a stand-in.")
        _quiet_progress_bars()  # offline: there is nothing to download, so no bars
        folder = standins.build_standin(model_id)
        info = standins.describe(folder)
        src = ModelSource(model_id, "standin", str(folder), description=(
            f"{model_id}: the Hub is out of reach, so this is an OFFLINE STAND-IN: the real "
            f"{entry.model_type} architecture at tiny size with random weights (its text is noise), "
            f"with {info.get('tokenizer', 'a substitute tokenizer')} and the real chat template."))
    if not quiet:
        print(src.description)
    return src


def load(model_id: str, local_dir=None, device: str | None = None, dtype=None, quiet: bool = False):
    """Tokenizer and model for `model_id`, on the best device here. Returns (tokenizer, model, source)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .hardware import pick_device, pick_dtype

    src = locate(model_id, local_dir, quiet=quiet)
    device = device or pick_device()
    dtype = dtype or pick_dtype(device)
    tokenizer = AutoTokenizer.from_pretrained(src.path, **src.kwargs)
    model = AutoModelForCausalLM.from_pretrained(src.path, dtype=dtype, **src.kwargs).to(device)
    return tokenizer, model, src
