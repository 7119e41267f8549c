"""F.pdist against PyTorch: values and gradients for every p (coinciding rows get gradient
0, as PyTorch's), the empty and one-row cases, float32, gradcheck, PyTorch's errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck
from tests.nn.parity import leaf, run_both


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 6), st.integers(1, 4), st.sampled_from([0.5, 1.0, 2.0, 3.0, float("inf")]),
       st.booleans(), st.integers(0, 2 ** 16))
def test_pdist_matches_torch(device, n, m, p, repeat_row, seed):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(seed).standard_normal((n, m))
    if repeat_row:
        data[-1] = data[0]      # a zero distance: PyTorch's gradient there is 0
    x = leaf(data, device=device)
    run_both(torch, lambda x: F.pdist(x, p), lambda x: torch.nn.functional.pdist(x, p), [x],
             seed)


def test_pdist_small_inputs_float32_gradcheck_and_errors(device):
    torch = pytest.importorskip("torch")
    for rows in (0, 1):
        assert tuple(F.pdist(mg.zeros(rows, 3, device=device)).shape) == (0,)
    data = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    out = F.pdist(mg.tensor(data, device=device))
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.cpu().numpy(), torch.nn.functional.pdist(
        torch.from_numpy(data)).numpy(), rtol=1e-5)
    zero_norm = F.pdist(mg.tensor(data, device=device), 0)
    np.testing.assert_array_equal(zero_norm.cpu().numpy(), torch.nn.functional.pdist(
        torch.from_numpy(data), 0).numpy())
    x = leaf(np.random.default_rng(2).standard_normal((3, 2)), device=device)
    assert gradcheck(lambda x: F.pdist(x, 3.0), (x,))
    for lib, fn in ((torch, torch.nn.functional), (mg, F)):
        with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 3D"):
            fn.pdist(lib.zeros(2, 3, 4))
        with pytest.raises(RuntimeError, match="pdist only supports non-negative p values"):
            fn.pdist(lib.zeros(3, 2), p=-1)
        with pytest.raises(RuntimeError, match="pdist only supports floating-point dtypes"):
            fn.pdist(lib.zeros(3, 2, dtype=lib.int64))
