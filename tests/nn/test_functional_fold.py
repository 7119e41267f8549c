"""F.unfold / F.fold (im2col / col2im) and nn.Unfold / nn.Fold against PyTorch: values and
gradients in float64 over hypothesis-drawn geometry, fold as unfold's adjoint, second
derivatives, unbatched input, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradgradcheck
from tests.nn.parity import leaf, run_both


@settings(max_examples=50, deadline=None)
@given(st.tuples(st.integers(1, 3), st.integers(1, 3)), st.tuples(st.integers(1, 2),
                                                                  st.integers(1, 2)),
       st.tuples(st.integers(0, 2), st.integers(0, 2)), st.tuples(st.integers(1, 3),
                                                                  st.integers(1, 3)),
       st.tuples(st.integers(1, 6), st.integers(1, 6)), st.booleans(), st.integers(0, 2 ** 16))
def test_unfold_and_fold_match_torch(device, k, d, p, s, size, unbatched, seed):
    torch = pytest.importorskip("torch")
    size = tuple(max(n, dd * (kk - 1) + 1) for n, dd, kk in zip(size, d, k))
    shape = (2,) + size if unbatched else (2, 2) + size
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape), device=device)
    kw = dict(kernel_size=k, dilation=d, padding=p, stride=s)
    cols = run_both(torch, lambda t: F.unfold(t, **kw),
                    lambda t: torch.nn.functional.unfold(t, **kw), [x], seed)
    y = leaf(rng.standard_normal(tuple(cols.shape)), device=device)
    run_both(torch, lambda t: F.fold(t, size, **kw),
             lambda t: torch.nn.functional.fold(t, size, **kw), [y], seed)


def test_fold_is_the_adjoint_of_unfold_and_differentiates_again(device):
    rng = np.random.default_rng(1)
    x = leaf(rng.standard_normal((1, 2, 4, 5)), device=device)
    kw = dict(kernel_size=(2, 3), padding=1, stride=(2, 1))
    cols = F.unfold(x, **kw)
    y = leaf(rng.standard_normal(tuple(cols.shape)), device=device)
    lhs = float((cols * y).sum())
    rhs = float((x * F.fold(y, (4, 5), **kw)).sum())
    assert abs(lhs - rhs) < 1e-10
    assert gradgradcheck(lambda t: (F.unfold(t, **kw) ** 2).sum(), (x,))
    assert gradgradcheck(lambda t: F.fold(t, (4, 5), **kw) ** 2, (y,))


def test_errors_match_torch():
    with pytest.raises(RuntimeError, match="calculated shape of the array of sliding blocks as "
                                           "\\(0, 0\\)"):
        F.unfold(mg.randn(1, 2, 3, 3), 4)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size, but got "
                                           "input.size\\(1\\)=5"):
        F.fold(mg.randn(1, 5, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match="number of sliding blocks 3 \\* 3 = 9, but got "
                                           "input.size\\(2\\)=8"):
        F.fold(mg.randn(1, 8, 8), (4, 4), 2)
    with pytest.raises(RuntimeError, match="padding should be non-negative"):
        F.unfold(mg.randn(2, 3, 4, 4), 2, padding=-1)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
        F.unfold(mg.randn(2, 3), 2)


def test_layers_match_torch(device):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Unfold(2, padding=1), torch.nn.Unfold(2, padding=1)
    assert repr(ours) == repr(theirs)
    x = leaf(np.random.default_rng(2).standard_normal((2, 3, 4, 4)), device=device)
    run_both(torch, ours, theirs, [x])
    ours, theirs = nn.Fold((4, 5), 2, stride=2), torch.nn.Fold((4, 5), 2, stride=2)
    assert repr(ours) == repr(theirs)
    y = leaf(np.random.default_rng(3).standard_normal((2, 12, 4)), device=device)
    run_both(torch, ours, theirs, [y])
