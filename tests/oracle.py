"""Running one expression in minigrad and in PyTorch and comparing both the forward values
and the vector-Jacobian products, for the op-family tests (sorting, scatter, cumulative,
rearrange)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import grad
from tests.devices import to_numpy
from tests.strategies import non_contiguous


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _leaf(array, device):
    """A minigrad leaf with array's values; floats of rank ≥ 2 are given a non-contiguous
    layout for about half of the shapes (decided by the shape, so reruns are identical)."""
    if array.dtype.kind == "f" and array.ndim >= 2 and hash(array.shape) % 2 and device == "cpu":
        t = mg.from_numpy(non_contiguous(array))
        assert not t.is_contiguous() or array.size <= 1 or 1 in array.shape
        return t.requires_grad_()
    return mg.tensor(array, device=device, requires_grad=array.dtype.kind == "f")


def compare_with_torch(fn, torch_fn, inputs, device, *, rtol=1e-10, atol=1e-12, seed=0,
                       check_grad=True):
    """``fn(*mg tensors)`` against ``torch_fn(*torch tensors)``: each input is a numpy array
    (float ones get ``requires_grad``); outputs (a tensor or a tuple of them) must match in
    shape, dtype and value (float inputs are sometimes non-contiguous), and the gradients of
    every float input for one random ``grad_outputs`` per float output must match too.
    Returns the minigrad outputs."""
    torch = pytest.importorskip("torch")
    mg_in = [_leaf(a, device) for a in inputs]
    t_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    outs, t_outs = _outputs(fn(*mg_in)), _outputs(torch_fn(*t_in))
    assert len(outs) == len(t_outs)
    for o, t in zip(outs, t_outs):
        expected = t.detach().numpy()
        got = to_numpy(o)
        assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
        assert got.dtype == expected.dtype, f"dtype {got.dtype} != {expected.dtype}"
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    if not check_grad:
        return outs
    float_in = [i for i, a in enumerate(inputs) if a.dtype.kind == "f"]
    pairs = [(o, t) for o, t in zip(outs, t_outs) if o.dtype.kind == "f" and t.requires_grad]
    if not float_in or not pairs:
        return outs
    rng = np.random.default_rng(seed)
    dys = [rng.standard_normal(tuple(o.shape)) for o, _ in pairs]
    grads = grad([o for o, _ in pairs], [mg_in[i] for i in float_in],
                 grad_outputs=[mg.tensor(d, device=device) for d in dys], allow_unused=True)
    t_grads = torch.autograd.grad([t for _, t in pairs], [t_in[i] for i in float_in],
                                  grad_outputs=[torch.tensor(d) for d in dys], allow_unused=True)
    for i, g, t in zip(float_in, grads, t_grads):
        expected = np.zeros(inputs[i].shape) if t is None else t.detach().numpy()
        got = np.zeros(inputs[i].shape) if g is None else to_numpy(g)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")
    return outs


def assert_same_surface(names):
    """Each name is a ``minigrad`` function exactly where it is a ``torch`` one, and a
    ``Tensor`` method exactly where it is a ``torch.Tensor`` one."""
    torch = pytest.importorskip("torch")
    for name in names:
        assert hasattr(mg, name) == hasattr(torch, name), f"minigrad.{name}"
        assert hasattr(mg.Tensor, name) == hasattr(torch.Tensor, name), f"Tensor.{name}"
