"""Build a chapter notebook from a jupytext "percent" script, then run it.

    python tools/nbbuild.py path/to/chapter.py notebooks/chapter.ipynb [--no-run]

A cell whose whole source is INSTALL_CELL becomes the book's install cell, generated from
the repository address in _config.yml (the same text in every notebook; a test checks it).
Running happens under the same hermetic settings as `pytest --nbval` (stand-ins, local
endpoint), so the stored outputs are the ones the tests compare.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def repository_url() -> str:
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def install_cell_source() -> str:
    return (
        "# Install cell (the same in every chapter). In Colab it installs the book's library\n"
        "# and its requirements from the book's repository; on your own machine see the README.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "cnllm @ git+{repository_url()}"'
    )


def build(src: Path, dst: Path) -> nbformat.NotebookNode:
    import jupytext  # an authoring tool: pip install jupytext

    nb = jupytext.read(src)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip() == "INSTALL_CELL":
            cell.source = install_cell_source()
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in {"tags"}}
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    nbformat.write(nb, dst)
    return nb


def run(dst: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from conftest import HERMETIC_ENV  # the test suite's settings
    from nbclient import NotebookClient

    os.environ.update(HERMETIC_ENV)
    from cnllm import api

    os.environ[api.ENDPOINT_ENV] = api.local_server()
    nb = nbformat.read(dst, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(dst.parent)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = sanitize(out["text"])
            for mime, value in out.get("data", {}).items():
                if isinstance(value, str) and mime.startswith("text/"):
                    out["data"][mime] = sanitize(value)
    nbformat.write(nb, dst)


def sanitize(text: str) -> str:
    """Apply the test suite's sanitizers (tests/nbval_sanitize.cfg) to a stored output."""
    import configparser
    import re

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    for section in cfg.sections():
        text = re.sub(cfg[section]["regex"], cfg[section]["replace"], text)
    return text


if __name__ == "__main__":
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    build(src, dst)
    if "--no-run" not in sys.argv:
        run(dst)
    print("wrote", dst)
