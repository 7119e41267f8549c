"""The in-place forms of pointwise ops (``exp_``, ``pow_``, ``eq_``, ``addcmul_``, …), the
in-place shape changes, and the small top-level helpers (``finfo``, ``iinfo``,
``promote_types``, ``can_cast``, ``set_printoptions``, …), each against PyTorch 2.13."""
import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:          # the oracle is optional: skip the module, never fail collection
    pytest.skip("torch (the oracle) is not installed", allow_module_level=True)

VALUES = np.array([0.25, 0.5, 1.5, 2.0])

UNARY = ["exp_", "expm1_", "log_", "log1p_", "sqrt_", "rsqrt_", "reciprocal_", "square_",
         "sin_", "cos_", "tan_", "tanh_", "sigmoid_", "erf_", "abs_", "neg_", "negative_",
         "floor_", "ceil_", "trunc_", "round_", "sign_", "frac_", "asin_", "atan_", "sinh_",
         "relu_", "deg2rad_"]


def _run(L, name, *args, **kwargs):
    """(value, gradient) of writing ``name`` into a non-leaf, then summing its square."""
    w = L.tensor(VALUES, requires_grad=True)
    y = w * 1
    getattr(y, name)(*args, **kwargs)
    (y * y).sum().backward()
    return y.detach().numpy(), w.grad.numpy()


@pytest.mark.parametrize("name", UNARY)
def test_unary_in_place_forms_match_torch(name):
    ours, theirs = _run(mg, name), _run(torch, name)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name, args, kwargs", [
    ("pow_", (3,), {}), ("clamp_min_", (0.6,), {}), ("clamp_max_", (0.6,), {}),
    ("remainder_", (0.75,), {}), ("fmod_", (0.75,), {}), ("eq_", (0.5,), {}),
    ("lt_", (1.0,), {}), ("nan_to_num_", (), {"nan": 0.0}),
])
def test_in_place_forms_with_numbers_match_torch(name, args, kwargs):
    ours, theirs = _run(mg, name, *args, **kwargs), _run(torch, name, *args, **kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name, value", [("pow_", None), ("atan2_", None), ("hypot_", None),
                                         ("addcmul_", 0.5), ("addcdiv_", 2.0), ("ge_", None)])
def test_in_place_forms_with_tensor_arguments_match_torch(name, value):
    def run(L):
        w = L.tensor(VALUES, requires_grad=True)
        other = L.tensor(VALUES[::-1].copy(), requires_grad=True)
        y = w * 1
        if value is None:
            getattr(y, name)(other)
        else:
            getattr(y, name)(other, w * 2, value=value)
        (y * y).sum().backward()
        return (y.detach().numpy(), w.grad.numpy(),
                None if other.grad is None else other.grad.numpy())
    ours, theirs = run(mg), run(torch)
    # A comparison's other operand: PyTorch hands it zeros, minigrad no gradient (None).
    compared = 2 if name == "ge_" else 3
    for a, b in zip(ours[:compared], theirs[:compared]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def test_in_place_forms_refuse_what_torch_refuses():
    for L in (mg, torch):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            L.ones(2, requires_grad=True).exp_()
        with pytest.raises(RuntimeError, match="can't be cast"):
            L.tensor([1, 4]).sqrt_()
        t = L.tensor([1, 4])
        with pytest.raises(RuntimeError):
            t.pow_(L.tensor([0.5, 0.5]))
        assert t.tolist() == [1, 4]                      # nothing half-written


def test_in_place_shape_changes_match_torch():
    for L in (mg, torch):
        x = L.ones(2, 1, 3)
        assert tuple(x.squeeze_(1).shape) == (2, 3)
        assert tuple(x.unsqueeze_(0).shape) == (1, 2, 3)
        assert tuple(x.transpose_(0, 2).shape) == (3, 2, 1)
        assert tuple(L.ones(2, 3).t_().shape) == (3, 2)


def test_top_level_helpers_match_torch():
    for dt in ("float16", "float32", "float64"):
        ours, theirs = mg.finfo(getattr(mg, dt)), torch.finfo(getattr(torch, dt))
        for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
            assert getattr(ours, field) == getattr(theirs, field), (dt, field)
    for dt in ("uint8", "int8", "int16", "int32", "int64"):
        ours, theirs = mg.iinfo(getattr(mg, dt)), torch.iinfo(getattr(torch, dt))
        assert (ours.bits, ours.min, ours.max) == (theirs.bits, theirs.min, theirs.max)
    with pytest.raises(TypeError):
        mg.finfo(mg.int32)
    with pytest.raises(TypeError):
        mg.iinfo(mg.float32)
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
    for a in names:
        for b in names:
            assert str(mg.promote_types(getattr(mg, a), getattr(mg, b))) == \
                str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[1]
            assert mg.can_cast(getattr(mg, a), getattr(mg, b)) == \
                torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)
    assert str(mg.result_type(mg.ones(2, dtype=mg.int32), 2.5)) == "float32"
    assert mg.is_floating_point(mg.ones(1)) and not mg.is_floating_point(mg.ones(1, dtype=mg.int64))
    assert mg.is_nonzero(mg.tensor([1.5])) and mg.numel(mg.ones(2, 3)) == 6
    with pytest.raises(RuntimeError, match="more than one value"):
        mg.is_nonzero(mg.ones(2))
    assert isinstance(mg.float32, mg.dtype)


def test_set_printoptions_changes_the_repr():
    try:
        mg.set_printoptions(precision=2)
        assert repr(mg.tensor([1.2345, 2.5])) == "tensor([1.23, 2.50])"
        mg.set_printoptions(threshold=5, edgeitems=2)
        assert "..." in repr(mg.arange(100.0))
    finally:
        mg.set_printoptions(profile="default")
    assert repr(mg.tensor([1.2345])) == "tensor([1.2345])"


def test_storage_questions():
    x = mg.arange(10.0)
    view = x[3:]
    assert view.storage_offset() == 3 and x.storage_offset() == 0
    assert view.data_ptr() == x.data_ptr() + 3 * 4
    assert x.ndimension() == 1 and x.byte().dtype == mg.uint8 and x.char().dtype == mg.int8
    assert x.short().dtype == mg.int16 and not x.is_pinned() and x.share_memory_() is x
