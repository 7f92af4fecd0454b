"""Tables and notes the chapters show, generated from the catalog and the planner.

Every function returns an ``IPython.display.Markdown`` object (its ``.data`` is the
Markdown text), so the rendered book, Colab and the tests all show the same thing.
"""
from __future__ import annotations

from IPython.display import Markdown

from . import catalog, hardware

CPU_TOKENS_PER_S_PER_GB = 6.0  # rough decode rate on a laptop CPU per GB of weights read (q4, 2-4 cores)


def _md(text: str) -> Markdown:
    return Markdown(text.strip() + "\n")


def _fmt_params(m: catalog.Model) -> str:
    total = f"{m.params_b:g}B"
    return f"{total} ({m.active_params_b:g}B active)" if m.is_moe else total


def _link(text: str, url: str | None) -> str:
    return f"[{text}]({url})" if url else text


def _source(url: str, checked) -> str:
    return f"[source]({url}), checked {checked.isoformat()}"


def _article(word: str) -> str:
    """'a' or 'an' as the word is spoken: letters named with a vowel sound take 'an' (an H100, a T4)."""
    return "an" if word[:1].upper() in set("AEFHILMNORSX") else "a"


def hardware_note(family: str) -> Markdown:
    """The 'hardware & time' note that opens every chapter."""
    fam = catalog.family(family)
    m = fam.chapter_model
    bf16 = hardware.memory_needed(m, "bf16", 4096)
    q4 = hardware.memory_needed(m, "q4_k_m", 4096)
    download = m.params_b * 2
    gpu = next((g for g, mem in hardware.GPUS.items() if bf16.total_gib <= mem * hardware.USABLE_FRACTION), None)
    active = m.active_params_b or m.params_b
    cpu_rate = CPU_TOKENS_PER_S_PER_GB / max(active * hardware.BYTES_PER_PARAM["q4_k_m"], 0.1)
    lines = [
        f"**Hardware & time.** This chapter runs **{m.id}** ({_fmt_params(m)} parameters, `{m.model_type}`).",
        f"- *GPU:* about {bf16.total_gib:.1f} GiB at bf16 with a 4k context"
        + (f" — {_article(gpu)} {gpu} is enough." if gpu else " — more than one GPU; see the planner section."),
        f"- *Download:* about {download:.1f} GB of bf16 weights from Hugging Face or ModelScope.",
        f"- *CPU only:* a 4-bit GGUF needs about {q4.total_gib:.1f} GiB of RAM"
        + (f"; expect very roughly {cpu_rate:.0f} tokens/s on a recent laptop." if cpu_rate >= 1 else
           "; on a laptop CPU expect under one token per second — use the API or a GPU."),
        "- *Offline (and in this book's tests):* a stand-in of the same architecture runs the whole chapter "
        "on two CPU cores in about a minute.",
    ]
    return _md("\n".join(lines))


def access(family: str) -> Markdown:
    """Chatbot, API and open weights of a family, with sources."""
    fam = catalog.family(family)
    out = [f"**{fam.name}** ({fam.chinese_name}) by {fam.company} ({fam.company_chinese}). "
           f"Homepage: <{fam.homepage}>."]
    if fam.chatbot:
        c = fam.chatbot
        out += ["", f"**Chatbot** — {_link(c.name, c.url)}: {c.signup.strip()} ({_source(c.source, c.checked)})"]
    else:
        out += ["", "**Chatbot** — none that the catalog can source today."]
    if fam.apis:
        out += ["", "**API**", "", "| region | base URL | key variable | OpenAI-compatible | SDK | models |",
                "|---|---|---|---|---|---|"]
        for a in fam.apis:
            out.append(f"| {a.name} | `{a.base_url}` | `{a.key_env}` | {'yes' if a.openai_compatible else 'no'} "
                       f"| {('`' + a.sdk + '`') if a.sdk else '—'} | {', '.join(f'`{x}`' for x in a.models)} |")
        quirks = [a for a in fam.apis if a.quirks]
        for a in quirks:
            out.append(f"\n*{a.name}:* {a.quirks.strip()} ({_source(a.source, a.checked)})")
        if not quirks:
            out.append(f"\n({_source(fam.apis[0].source, fam.apis[0].checked)})")
    else:
        out += ["", "**API** — none that the catalog can source today."]
    out += ["", "**Open weights**", "", models_table(family).data]
    return _md("\n".join(out))


def models_table(family: str) -> Markdown:
    fam = catalog.family(family)
    rows = ["| model (Hugging Face) | ModelScope | parameters | type | context | licence | remote code |",
            "|---|---|---|---|---|---|---|"]
    for m in fam.models:
        lic = catalog.license(m.license) if m.license in catalog.licenses() else None
        rows.append(
            f"| {_link(m.id, m.hf_url)} | {_link(m.modelscope, m.modelscope_url) if m.modelscope else '—'} "
            f"| {_fmt_params(m)} | `{m.model_type}` | {m.context:,} | {_link(lic.name if lic else m.license, lic.url if lic else None)} "
            f"| {'yes' if m.trust_remote_code else 'no'} |")
    return _md("\n".join(rows))


def licence_notes(family: str) -> Markdown:
    fam = catalog.family(family)
    keys = list(dict.fromkeys(m.license for m in fam.models))
    lines = []
    for k in keys:
        lic = catalog.license(k)
        lines.append(f"- **{lic.name}**: {lic.summary.strip()} ({_source(lic.source, lic.checked)})")
    return _md("\n".join(lines))


def fits_table(family: str, context: int = 4096) -> Markdown:
    """Which of the family's models fit which GPU, generated by the planner."""
    fam = catalog.family(family)
    gpus = ["T4 16GB (Colab free)", "RTX 4090 24GB", "H100 80GB"]
    head = "| model | bf16 GiB | 4-bit GiB | " + " | ".join(f"{g}: GPUs" for g in gpus) + " |"
    rows = [head, "|" + "---|" * (3 + len(gpus))]
    for m in fam.models:
        b = hardware.memory_needed(m, "bf16", context).total_gib
        q = hardware.memory_needed(m, "int4", context).total_gib
        cells = [str(hardware.gpus_needed(m, g, "bf16", context)) for g in gpus]
        rows.append(f"| {m.id} | {b:.1f} | {q:.1f} | " + " | ".join(cells) + " |")
    rows.append(f"\nEstimates for {context:,} tokens of context, batch 1: weights + KV cache + a runtime margin "
                "(see `cnllm.hardware`). GPU counts are rounded up to a tensor-parallel size.")
    return _md("\n".join(rows))


def scale_out(family: str, gpu: str = "H100 80GB", context: int = 32768) -> Markdown:
    """vLLM and SGLang commands for the family's models that outgrow one GPU."""
    fam = catalog.family(family)
    native = {m.id: (m.weights_dtype if m.weights_dtype in hardware.BYTES_PER_PARAM else "bf16") for m in fam.models}
    big = [m for m in fam.models if hardware.gpus_needed(m, gpu, native[m.id], context) > 1]
    if not big:
        return _md(f"Every {fam.name} model in the catalog fits on one {gpu} in its released format.")
    out = [f"Models that outgrow one {gpu}, in the format their weights are released in, "
           f"with {context:,} tokens of context:", ""]
    for m in big:
        d = native[m.id]
        v = hardware.serve_command(m, "vllm", gpu, d, context)
        s = hardware.serve_command(m, "sglang", gpu, d, context)
        where = f"{v.gpus} x {gpu}" + (f" over {v.nodes} nodes" if v.nodes > 1 else "")
        out += [f"**{m.id}** — about {v.estimate.total_gib:.0f} GiB at {d}: {where}.", "",
                "```bash", v.command, s.command, "```", ""]
    return _md("\n".join(out))


def sources(family: str) -> Markdown:
    fam = catalog.family(family)
    lines = [f"- [{s.title}]({s.url}) (checked {s.checked.isoformat()})" for s in fam.sources]
    lines.append(f"- Every fact above carries its own source in `cnllm/catalog/{fam.key}.yaml`.")
    return _md("\n".join(lines))


def landscape() -> Markdown:
    """The book's landscape table: one row per family."""
    rows = ["| family | company | chatbot | API (OpenAI-compatible) | smallest open chat model | largest open model | licences |",
            "|---|---|---|---|---|---|---|"]
    for fam in catalog.families():
        chat = _link(fam.chatbot.name, fam.chatbot.url) if fam.chatbot else "—"
        api = ", ".join(f"`{a.base_url.split('/')[2]}`" for a in fam.apis) or "—"
        small = fam.chapter_model
        largest = max(fam.models, key=lambda m: m.params_b)
        lic = ", ".join(dict.fromkeys(catalog.license(m.license).name for m in fam.models))
        rows.append(f"| **{fam.name}** {fam.chinese_name} | {fam.company} | {chat} | {api} "
                    f"| {small.id} ({_fmt_params(small)}) | {largest.id} ({_fmt_params(largest)}) | {lic} |")
    return _md("\n".join(rows))
