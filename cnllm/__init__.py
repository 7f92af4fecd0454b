"""cnllm: the small library behind the book *China's open LLMs, executed*.

Facts come from the catalog (``cnllm.catalog``); models from a local folder, the Hub or
an offline stand-in (``cnllm.locate``); APIs through one OpenAI-compatible path with a
local fallback (``cnllm.endpoint``); memory plans from ``cnllm.hardware``.
"""
from .api import client, endpoint, local_server
from .catalog import CatalogError, families, family, find_model
from .errors import FriendlyError
from .hardware import check_fits, memory_needed, pick_device, pick_dtype, serve_command, this_machine, what_fits
from .loading import load, locate
from .widgets import chat_box

__version__ = "0.1.0"
__all__ = [
    "CatalogError", "FriendlyError", "chat_box", "check_fits", "client", "endpoint", "families", "family",
    "find_model", "load", "local_server", "locate", "memory_needed", "pick_device", "pick_dtype",
    "serve_command", "this_machine", "what_fits",
]
