"""pytest configuration shared by the unit tests and `pytest --nbval notebooks`.

Validation is hermetic: unless CNLLM_REAL=1 is set, every notebook uses offline
stand-ins and the local endpoint — no downloads, and no real API call even when the
reader has keys set — so the result is the same on any machine, network or not.
One local OpenAI-compatible server is started for the whole run and reused by every
notebook's kernel (kernels inherit this process's environment).
"""
import os

HERMETIC_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "CNLLM_HERMETIC": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONWARNINGS": "ignore",
    "TQDM_DISABLE": "1",
}

_server_started_here = False


def pytest_configure(config):
    if os.environ.get("CNLLM_REAL", "").strip() in {"1", "true", "yes"}:
        return  # the reader asked for real models and real APIs
    os.environ.update(HERMETIC_ENV)
    if config.getoption("nbval", default=False) or config.getoption("nbval_lax", default=False):
        global _server_started_here
        from cnllm import api

        os.environ[api.ENDPOINT_ENV] = api.local_server()
        _server_started_here = True


def pytest_unconfigure(config):
    if _server_started_here:
        from cnllm import api

        api.stop_local_server()
