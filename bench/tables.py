"""A Markdown table that also reads well in a terminal (shared by the bench commands)."""

from __future__ import annotations


def markdown_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    """Columns padded to one width; the columns numbered in `right` right-aligned."""
    cells = [header] + rows
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]

    def line(cs):
        return "| " + " | ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cs, widths))) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2))
                         for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), sep] + [line(c) for c in rows])
