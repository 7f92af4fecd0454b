"""Notebook hygiene: one install cell, Colab links from _config.yml, outputs present and clean."""
import json
import re
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

from cnllm import catalog

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from nbbuild import install_cell_source, repository_url  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SECRET = re.compile(r"(sk-[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16}|api_key\s*=\s*['\"][^'\"]{12,})")
MACHINE_TEXT = re.compile(r"(/root/|/home/\w+|/tmp/|/Users/\w+|\.cache/cnllm|site-packages|127\.0\.0\.1:(?!PORT)\d+)")


def cells(nb_path):
    return json.loads(nb_path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def output_text(cell):
    parts = []
    for o in cell.get("outputs", []):
        if "text" in o:
            parts.append("".join(o["text"]))
        for value in o.get("data", {}).values():
            parts.append(value if isinstance(value, str) else "".join(value) if isinstance(value, list) else json.dumps(value))
        if o.get("output_type") == "error":
            parts.append(f"ERROR {o.get('ename')}: {o.get('evalue')}")
    return "\n".join(parts)


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_install_cell(nb):
    first = next(c for c in cells(nb) if c["cell_type"] == "code")
    assert source(first) == install_cell_source()
    assert f"git+{repository_url()}" in source(first)


def test_install_cell_installs_what_requirements_and_the_library_need():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    req = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    for d in deps:  # the library's ranges are the reader's ranges
        assert d in req, f"{d} is a library dependency missing from requirements.txt"
    assert "cnllm @ git+" in install_cell_source()  # installs the library with exactly those dependencies


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_present_clean_and_error_free(nb):
    code = [c for c in cells(nb) if c["cell_type"] == "code"]
    assert any(c.get("outputs") for c in code), "run the notebook and keep its outputs"
    for c in code:
        text = output_text(c)
        assert "ERROR " not in text and "Traceback" not in text, source(c)[:80]
        assert not MACHINE_TEXT.search(text), f"machine-specific text in outputs of: {source(c)[:80]!r}"
        assert not SECRET.search(source(c) + text), "something that looks like a secret"
        if any(o.get("name") == "stderr" for o in c.get("outputs", [])):
            assert "NBVAL_IGNORE_OUTPUT" in source(c), f"stderr output in a compared cell: {source(c)[:80]!r}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_hard_coded_cuda_or_machine_paths_in_code(nb):
    for c in cells(nb):
        if c["cell_type"] == "code":
            src = source(c)
            placed = re.search(r"""(\.to\(["']cuda|device(_map)?\s*=\s*["']cuda|\.cuda\(\))""", src)
            assert not placed, "choose the device with cnllm.pick_device(), not a hard-coded 'cuda'"
            assert not re.search(r"/(root|home|Users)/", src)


def test_every_notebook_is_in_the_table_of_contents_and_back():
    listed = {f for f in toc_files() if f.startswith("notebooks/")}
    present = {f"notebooks/{p.stem}" for p in NOTEBOOKS}
    assert listed == present
    for f in toc_files():
        assert (ROOT / f"{f}.ipynb").exists() or (ROOT / f"{f}.md").exists(), f


@pytest.mark.parametrize("family", [f.key for f in catalog.families()])
def test_each_family_chapter_runs_its_catalog_model(family):
    nb = ROOT / "notebooks" / f"{family}.ipynb"
    if not nb.exists():
        pytest.fail(f"no chapter for {family}")
    code = "\n".join(source(c) for c in cells(nb) if c["cell_type"] == "code")
    model = catalog.family(family).chapter_model
    assert f'cnllm.locate("{model.id}")' in code
    assert f'book.hardware_note("{family}")' in code and f'book.access("{family}")' in code
    assert "cnllm.chat_box(" in code and f'book.sources("{family}")' in code
    # the stand-in the chapter loads has the architecture the catalog records
    out = "\n".join(output_text(c) for c in cells(nb))
    assert f"{model.id}: " in out and (f"real {model.model_type} architecture" in out or "real weights" in out)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_a_chapter_opened_alone_in_colab_needs_no_repository_files(nb):
    """Colab gets the notebook and the installed library, not the repository around it."""
    for c in cells(nb):
        if c["cell_type"] != "code":
            continue
        src = source(c)
        assert not re.search(r"^\s*(from|import)\s+(bench|tools|tests|conftest)\b", src, re.M), src[:80]
        assert not re.search(r"""open\(\s*["'](\.\.?/|notebooks/|book/|bench/|cnllm/)""", src), src[:80]
        assert "sys.path.insert" not in src and "sys.path.append" not in src, src[:80]
