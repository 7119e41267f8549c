"""benchmarks/ptxas_table.py: the docs/gpu.md table from the compile results."""
import json

import pytest

from minigrad_benchmarks import ptxas_table

REPORT = dict(arch="sm_90", ptxas="Cuda compilation tools, release 13.0", numba_cuda="NVIDIA",
              rows=[dict(kernel="sgemm_nn", threads=256, registers=122, register_budget=128,
                         shared=8192, expected_shared=8192, stack=0, spill_stores=0,
                         spill_loads=0, fp64_instructions=0),
                    dict(kernel="no_ptxas", threads=64, register_budget=32, expected_shared=0,
                         fp64_instructions=0)])


def test_table_has_one_row_per_kernel_with_used_and_assumed_resources():
    table = ptxas_table.format_table(REPORT)
    assert "| sgemm_nn | 256 | 122 / 128 | 8192 / 8192 | 0 | 0 / 0 | 0 |" in table
    assert "| no_ptxas | 64 | - / 32 | - / 0 | - | - / - | 0 |" in table      # PTX only
    assert table.count("\n| ") == 3                  # the header and the two rows


def test_rewrite_replaces_only_the_marked_block_and_needs_the_markers():
    doc = "intro\n<!-- ptxas table: begin -->\nold\n<!-- ptxas table: end -->\noutro\n"
    new = ptxas_table.rewrite(doc, "NEW\n")
    assert new == "intro\n<!-- ptxas table: begin -->\nNEW\n<!-- ptxas table: end -->\noutro\n"
    assert ptxas_table.rewrite(new, "NEW\n") == new
    with pytest.raises(ValueError, match="markers"):
        ptxas_table.rewrite("no markers", "NEW\n")


def test_the_committed_doc_shows_the_committed_results():
    with open(ptxas_table.RESULTS, encoding="utf-8") as handle:
        table = ptxas_table.format_table(json.load(handle))
    with open(ptxas_table.DOC, encoding="utf-8") as handle:
        assert table in handle.read(), "run python -m benchmarks.ptxas_table after compiling"
