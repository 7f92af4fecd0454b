"""One OpenAI-compatible way to reach every provider, and a local endpoint when you have no key.

``endpoint(family)`` returns the base URL, key and model name to hand to ``openai.OpenAI``:

* with the provider's key (environment variable, Colab secret, or — if you ask — a hidden
  prompt), the provider's real API from the catalog;
* without one, a real OpenAI-compatible server on loopback (``transformers serve``)
  serving the family's chapter model — the stand-in offline — so the very same code runs.

Keys are never printed: the ``Endpoint`` repr hides them.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog, loading, standins
from .errors import FriendlyError

LOCAL_HOST = "127.0.0.1"
DEFAULT_LOCAL_PORT = 8765
ENDPOINT_ENV = "CNLLM_LOCAL_ENDPOINT"  # base URL of a running local server to reuse
HERMETIC_ENV = "CNLLM_HERMETIC"  # set by the test suite: never use a real key
_started: list[subprocess.Popen] = []


def _hermetic() -> bool:
    return os.environ.get(HERMETIC_ENV, "").strip().lower() in {"1", "true", "yes"}


# -------------------------------------------------------------------- keys ---

def _colab_secret(name: str) -> str | None:
    try:
        from google.colab import userdata  # type: ignore

        return userdata.get(name)
    except Exception:  # not in Colab, no such secret, or access not granted
        return None


def get_key(key_env: str, ask: bool = False) -> str | None:
    """The API key from the environment, then Colab secrets, then (if `ask`) a hidden prompt."""
    if _hermetic():
        return None
    key = os.environ.get(key_env) or _colab_secret(key_env)
    if not key and ask and sys.stdin is not None and sys.stdin.isatty():
        import getpass

        key = getpass.getpass(f"{key_env} (input hidden, Enter to skip): ").strip() or None
    return key or None


def how_to_set_key(api: catalog.Api) -> str:
    where = f" (create one at {api.key_url})" if api.key_url else ""
    return (f"No {api.key_env} found{where}. Set it with `export {api.key_env}=...` in your shell, "
            f"or in Colab add a secret named {api.key_env} (the key icon in the left bar).")


# ----------------------------------------------------------- local server ---

def _healthy(base: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(base.rsplit("/v1", 1)[0] + "/health", timeout=timeout) as r:
            return r.status == 200
    except Exception:
        return False


def _state_file() -> Path:
    return standins.cache_root() / "local-endpoint.json"


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind((LOCAL_HOST, port))
                return s.getsockname()[1]
            except OSError:
                continue
    raise FriendlyError("No free local port for the local endpoint.")


def _stop_started() -> None:
    for proc in _started:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    _started.clear()


def local_server(port: int | None = None, timeout: float = 120.0) -> str:
    """Base URL of a running local OpenAI-compatible server, starting one if needed.

    Reuses, in order: the server named by $CNLLM_LOCAL_ENDPOINT, the one this library
    started last (recorded in its cache folder), else starts ``transformers serve`` on
    loopback and stops it when Python exits.
    """
    for base in (os.environ.get(ENDPOINT_ENV), _recorded()):
        if base and _healthy(base):
            return base
    exe = shutil.which("transformers")
    if exe is None:
        raise FriendlyError('The local endpoint needs transformers\' server: pip install "transformers[serving]"')
    port = _free_port(port or int(os.environ.get("CNLLM_LOCAL_PORT", DEFAULT_LOCAL_PORT)))
    env = dict(os.environ, HF_HUB_OFFLINE=os.environ.get("HF_HUB_OFFLINE", "1"))
    log = open(standins.cache_root() / "local-endpoint.log", "ab")
    proc = subprocess.Popen([exe, "serve", "--host", LOCAL_HOST, "--port", str(port), "--log-level", "warning"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    _started.append(proc)
    atexit.register(_stop_started)
    base = f"http://{LOCAL_HOST}:{port}/v1"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FriendlyError("The local server exited at start; see local-endpoint.log in the cnllm cache folder.")
        if _healthy(base):
            _state_file().write_text(json.dumps({"base_url": base, "pid": proc.pid}))
            return base
        time.sleep(0.5)
    raise FriendlyError(f"The local server did not answer within {timeout:.0f} s.")


def _recorded() -> str | None:
    try:
        return json.loads(_state_file().read_text())["base_url"]
    except Exception:
        return None


def stop_local_server() -> None:
    """Stop the server this Python process started (it also stops at exit)."""
    _stop_started()


# -------------------------------------------------------------- endpoints ---

@dataclass(frozen=True)
class Endpoint:
    """What ``openai.OpenAI(base_url=..., api_key=...)`` and ``model=`` need."""

    provider: str
    base_url: str
    model: str
    is_local: bool
    label: str
    api_key: str = field(repr=False, default="not-needed")

    def __str__(self) -> str:
        return self.label

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.label)


def endpoint(family: str, region: str | None = None, model: str | None = None,
             ask: bool = False, quiet: bool = False) -> Endpoint:
    """The provider's API when its key is set, else the local endpoint; prints which."""
    fam = catalog.family(family)
    api = fam.api(region) if fam.apis else None
    key = get_key(api.key_env, ask=ask) if api else None
    if api and key:
        chosen = model or api.example_model
        label = f"{api.name}: {api.base_url} (model {chosen!r}, key from {api.key_env})"
        ep = Endpoint(api.key, api.base_url, chosen, False, label, key)
    else:
        if api is None:
            reason = f"{fam.name} has no public API in the catalog"
        else:
            reason = ("Hermetic mode (CNLLM_HERMETIC=1, as in the book's tests): API keys are ignored."
                      if _hermetic() else how_to_set_key(api))
        local_model = fam.chapter_model.id
        src = loading.locate(local_model, quiet=True)
        base = local_server()
        label = (f"{reason}\nUsing the local endpoint instead: {base} serving "
                 f"{'a stand-in of ' if src.is_standin else ''}{local_model}.")
        ep = Endpoint("local", base, src.path, True, label)
    if not quiet:
        print(ep.label)
    return ep


def client(ep: Endpoint):
    """An ``openai.OpenAI`` client for an endpoint."""
    from openai import OpenAI

    return OpenAI(base_url=ep.base_url, api_key=ep.api_key)
