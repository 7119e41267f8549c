"""The ptxas resource table of docs/gpu.md, from ``benchmarks/results/gpu/ptxas_sm90.json``.

``python -m minigrad_kernels.cuda._compile --json benchmarks/results/gpu/ptxas_sm90.json``
compiles every CUDA kernel at its production sizes (the ``gpu`` extra, no GPU needed);
``python -m benchmarks.ptxas_table`` then rewrites the block between the ``ptxas table``
markers of docs/gpu.md (``--print`` prints it instead), so the page always shows the
numbers of the last compile.
"""
import argparse
import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results", "gpu", "ptxas_sm90.json")
DOC = os.path.join(ROOT, "docs", "gpu.md")
BLOCK = re.compile(r"(<!-- ptxas table: begin -->\n).*?(<!-- ptxas table: end -->)", re.S)


def format_table(report):
    """Markdown: one row per kernel with threads, registers (used / budget), shared memory
    (used / what the launch assumes), stack and spill bytes and fp64 instructions."""
    lines = [f"{report.get('ptxas') or 'ptxas'}, {report.get('arch', 'sm_90')}, "
             f"numba-cuda `{report.get('numba_cuda', '?')}`:", "",
             "| kernel | threads | registers / budget | shared bytes / expected | stack | "
             "spills (store / load) | fp64 |",
             "|---|---|---|---|---|---|---|"]
    for row in report["rows"]:
        lines.append(
            f"| {row['kernel']} | {row['threads']} | {row.get('registers', '-')} / "
            f"{row['register_budget']} | {row.get('shared', '-')} / {row['expected_shared']} | "
            f"{row.get('stack', '-')} | {row.get('spill_stores', '-')} / "
            f"{row.get('spill_loads', '-')} | {row['fp64_instructions']} |")
    return "\n".join(lines) + "\n"


def rewrite(doc_text, table):
    """``doc_text`` with the marked block replaced by ``table``; ValueError without markers."""
    if not BLOCK.search(doc_text):
        raise ValueError("docs/gpu.md has no '<!-- ptxas table: begin/end -->' markers")
    return BLOCK.sub(lambda m: m.group(1) + table + m.group(2), doc_text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=RESULTS)
    parser.add_argument("--doc", default=DOC)
    parser.add_argument("--print", action="store_true", help="print the table, write nothing")
    args = parser.parse_args(argv)
    with open(args.json, encoding="utf-8") as handle:
        table = format_table(json.load(handle))
    if args.print:
        print(table, end="")
        return 0
    with open(args.doc, encoding="utf-8") as handle:
        text = handle.read()
    with open(args.doc, "w", encoding="utf-8") as handle:
        handle.write(rewrite(text, table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
