"""F.max_pool2d / F.avg_pool2d / F.adaptive_avg_pool2d: PyTorch parity (values, indices,
gradients) over hypothesis-drawn kernel/stride/padding/dilation/ceil_mode/
count_include_pad/divisor_override, unbatched input, second derivatives, and errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both


def distinct(shape, seed):
    """Tie-free values, so the arg-max (and its gradient) is unambiguous."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.1 - 1.0


@st.composite
def pool_case(draw, dilated=True):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([None, 1, 2, (1, 3), (2, 1)]))
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    span = [dilation[a] * (k[a] - 1) + 1 for a in range(2)]
    h, w = span[0] + draw(st.integers(0, 4)), span[1] + draw(st.integers(0, 4))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    return shape, k, stride, padding, dilation, draw(st.booleans())


@given(pool_case(), st.integers(0, 2 ** 16))
def test_max_pool_matches_torch(device, case, seed):
    torch = pytest.importorskip("torch")
    shape, k, stride, padding, dilation, ceil_mode = case
    x = leaf(distinct(shape, seed), device=device)
    kw = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    try:
        torch.nn.functional.max_pool2d(torch.zeros(shape), k, **kw)
    except RuntimeError:
        return  # geometry PyTorch rejects (tested in test_errors)
    run_both(torch, lambda x: F.max_pool2d(x, k, **kw),
             lambda x: torch.nn.functional.max_pool2d(x, k, **kw), [x], seed)
    ours = F.max_pool2d(x.detach(), k, return_indices=True, **kw)[1]
    theirs = torch.nn.functional.max_pool2d(torch.from_numpy(x.detach().cpu().numpy()), k,
                                            return_indices=True, **kw)[1]
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())
    assert ours.dtype == mg.int64


@given(pool_case(dilated=False), st.booleans(), st.sampled_from([None, 1, 3]),
       st.integers(0, 2 ** 16))
def test_avg_pool_matches_torch(device, case, count_include_pad, divisor, seed):
    torch = pytest.importorskip("torch")
    shape, k, stride, padding, _, ceil_mode = case
    x = leaf(np.random.default_rng(seed).standard_normal(shape), device=device)
    kw = dict(stride=stride, padding=padding, ceil_mode=ceil_mode,
              count_include_pad=count_include_pad, divisor_override=divisor)
    run_both(torch, lambda x: F.avg_pool2d(x, k, **kw),
             lambda x: torch.nn.functional.avg_pool2d(x, k, **kw), [x], seed)


@given(st.integers(1, 7), st.integers(1, 7), st.sampled_from([1, 2, 3, (2, 5), (None, 3), 7]),
       st.booleans(), st.integers(0, 2 ** 16))
def test_adaptive_avg_pool_matches_torch(device, h, w, size, unbatched, seed):
    torch = pytest.importorskip("torch")
    shape = (2, h, w) if unbatched else (2, 3, h, w)
    x = leaf(np.random.default_rng(seed).standard_normal(shape), device=device)
    run_both(torch, lambda x: F.adaptive_avg_pool2d(x, size),
             lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size), [x], seed)


def test_unbatched_and_float32(device):
    torch = pytest.importorskip("torch")
    x = leaf(distinct((2, 5, 5), 0), device=device)
    run_both(torch, lambda x: F.max_pool2d(x, 3, 2, 1),
             lambda x: torch.nn.functional.max_pool2d(x, 3, 2, 1), [x])
    x = leaf(distinct((2, 5, 5), 1), device=device)
    run_both(torch, lambda x: F.avg_pool2d(x, 2), lambda x: torch.nn.functional.avg_pool2d(x, 2), [x])
    x32 = mg.randn(1, 2, 4, 4, device=device)
    assert F.max_pool2d(x32, 2).dtype == mg.float32 and F.avg_pool2d(x32, 2).dtype == mg.float32
    assert F.adaptive_avg_pool2d(x32, 3).dtype == mg.float32


def test_empty_batch_and_non_contiguous_input(device):
    torch = pytest.importorskip("torch")
    for fn in ("max_pool2d", "avg_pool2d"):
        x = leaf(np.zeros((0, 2, 4, 4)), device=device)
        run_both(torch, lambda t: getattr(F, fn)(t, 2),
                 lambda t: getattr(torch.nn.functional, fn)(t, 2), [x])
    base = distinct((2, 3, 5, 4), 7)
    x = mg.from_numpy(np.swapaxes(np.ascontiguousarray(np.swapaxes(base, 2, 3)), 2, 3)).to(device)
    assert not x.is_contiguous()
    x.requires_grad_()
    run_both(torch, lambda t: F.max_pool2d(t, 2, 1), lambda t: torch.nn.functional.max_pool2d(t, 2, 1),
             [x])


def test_gradchecks(device):
    x = leaf(distinct((1, 2, 4, 5), 3), device=device)
    assert gradcheck(lambda t: F.max_pool2d(t, (2, 3), (1, 2), (1, 1), ceil_mode=True), (x,), eps=1e-4)
    assert gradgradcheck(lambda t: F.max_pool2d(t, 2), (x,), eps=1e-4)
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x,))
    assert gradgradcheck(lambda t: F.avg_pool2d(t, 2, 1), (x,))
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 2)), (x,))


def test_overlapping_windows_accumulate_at_a_shared_argmax(device):
    x = leaf(np.zeros((1, 1, 3, 3)), device=device)
    x.array[0, 0, 1, 1] = 5.0
    F.max_pool2d(x, 2, stride=1).sum().backward()
    assert x.grad.cpu().numpy()[0, 0, 1, 1] == 4.0 and x.grad.cpu().numpy().sum() == 4.0


@pytest.mark.parametrize("call,message", [
    (lambda: F.max_pool2d(mg.randn(1, 1, 5, 5), 2, padding=2),
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2"),
    (lambda: F.max_pool2d(mg.randn(1, 1, 1, 1), 3),
     "Given input size: (1x1x1). Calculated output size: (1x0x0). Output size is too small"),
    (lambda: F.max_pool2d(mg.randn(5, 5), 2), "non-empty 3D or 4D (batch mode) tensor expected"),
    (lambda: F.max_pool2d(mg.randn(1, 1, 5, 5), 2, stride=0), "stride should not be zero"),
    (lambda: F.avg_pool2d(mg.randn(1, 1, 5, 5), 2, padding=2), "pad should be at most half"),
    (lambda: F.avg_pool2d(mg.randn(1, 1, 5, 5), 2, divisor_override=0), "divisor must be not zero"),
    (lambda: F.adaptive_avg_pool2d(mg.randn(5, 5), 3),
     "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [5, 5]"),
])
def test_errors(call, message):
    with pytest.raises(RuntimeError) as info:
        call()
    assert message in str(info.value)
