"""External links: every URL a reader can meet is well formed and uses https.

Checked offline, here: the prose pages (book/*.md), the notebooks (Markdown cells and
stored outputs, which the site shows) and the catalog (cnllm/catalog/*.yaml, every fact's
source). Whether each URL still answers needs a network: `make linkcheck` runs Sphinx's
link checker over the built book.
"""
from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]

URL = re.compile(r"""\bhttps?://[^\s<>"'`|\\\]\[{}]+""", re.I)
TRAILING = ".,;:!?*_~"

# Plain http is right only for a server on the reader's own machine or network, as in the
# examples of a local OpenAI-compatible endpoint (`transformers serve`, vLLM, Ollama):
# loopback addresses, and placeholder hosts in CAPITALS that the reader replaces
# (e.g. http://GPU_HOST:8000/v1). Everything else must be https.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1"}
PLACEHOLDER_HOST = re.compile(r"^[A-Z][A-Z0-9_]*$")


def sources() -> list[Path]:
    files = sorted((ROOT / "book").glob("*.md"))
    files += sorted((ROOT / "notebooks").glob("*.ipynb"))
    files += sorted((ROOT / "cnllm" / "catalog").glob("*.yaml"))
    return files


def _clean(url: str) -> str:
    # a Markdown link's closing parenthesis, or a sentence's full stop, is not part of it
    while url and (url[-1] in TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _texts(path: Path):
    """(where, text) pairs a reader sees: the whole file, or a notebook's markdown + outputs."""
    if path.suffix != ".ipynb":
        yield "", path.read_text(encoding="utf-8")
        return
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            yield f"cell {i} (markdown)", "".join(cell["source"])
        for output in cell.get("outputs", []):
            parts = [output.get("text", "")]
            parts += list(output.get("data", {}).values())
            for part in parts:
                if isinstance(part, list):
                    part = "".join(part)
                if isinstance(part, str):
                    yield f"cell {i} (output)", part


def urls_in(path: Path) -> list[tuple[str, str]]:
    found = []
    for where, text in _texts(path):
        for m in URL.finditer(text):
            found.append((where, _clean(m.group(0))))
    return found


def problem(url: str) -> str | None:
    """Why `url` is not a well-formed public https URL (None when it is)."""
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        return "contains a space or control character"
    parts = urlsplit(url)
    if parts.scheme.lower() == "http":
        host = parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0].strip("[]")
        # loopback and placeholder examples, whose port may be a placeholder too (PORT)
        if host in LOCAL_HOSTS or PLACEHOLDER_HOST.match(host):
            return None
        return "plain http: use https"
    try:
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        return f"malformed: {exc}"
    host = parts.hostname or ""
    if parts.scheme.lower() != "https":
        return f"scheme {parts.scheme!r}"
    if not host:
        return "no host"
    if parts.username or parts.password:
        return "credentials in the URL"
    if port is not None and port != 443:
        return f"unusual port {port} on a public URL"
    try:
        ipaddress.ip_address(host)
        return "a bare IP address, not a host name"
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) < 2 or not re.fullmatch(r"[a-z]{2,63}|xn--[a-z0-9-]+", labels[-1]):
        return f"host {host!r} has no valid top-level domain"
    for label in labels:
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", label):
            return f"host label {label!r} is not valid"
    if "%" in url and re.search(r"%(?![0-9A-Fa-f]{2})", url):
        return "a broken %-escape"
    return None


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_external_urls_are_well_formed_https(path):
    bad = sorted({f"{where + ': ' if where else ''}{url} — {why}"
                  for where, url in urls_in(path) if (why := problem(url))})
    assert not bad, f"{path.relative_to(ROOT)}:\n" + "\n".join(bad)


def test_the_checker_catches_bad_urls():
    assert problem("https://huggingface.co/Qwen/Qwen3-0.6B") is None
    assert problem("http://localhost:8000/v1") is None
    assert problem("http://127.0.0.1:8000/v1") is None
    assert problem("http://GPU_HOST:8000/v1") is None
    assert problem("http://127.0.0.1:PORT/v1") is None
    assert problem("http://example.com/") == "plain http: use https"
    assert problem("https://exa mple.com") is not None
    assert problem("https://huggingface/Qwen") is not None
    assert problem("https://example.com:99999/") is not None
    assert problem("https://1.2.3.4/") is not None
    assert _clean("https://docs.vllm.ai).") == "https://docs.vllm.ai"
    assert [u for _, u in [("", _clean(m.group(0))) for m in URL.finditer(
        "[x](https://a.example.org/p_(q)) and <https://b.example.org/>.")]] == [
        "https://a.example.org/p_(q)", "https://b.example.org/"]


def test_the_book_has_external_links():
    assert sum(len(urls_in(p)) for p in sources()) > 20


def test_makefile_has_a_linkcheck_target():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^linkcheck:", makefile, re.M) and "linkcheck" in makefile
