"""minigrad.bfloat16 (ml_dtypes' numpy bfloat16) against torch.bfloat16: promotion with
every dtype, rounding on conversion, printing, finfo, autograd, and float32-accumulated
products that round once (bit-equal to PyTorch's CPU kernels on these sizes)."""
import itertools

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:
    pytest.skip("torch is the oracle here", allow_module_level=True)

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64"]


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, ["bfloat16", "float16"])))
def test_promote_types_matches_torch(a, b):
    ours = mg.promote_types(getattr(mg, a), getattr(mg, b))
    theirs = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert str(ours) == str(theirs).replace("torch.", "")


def test_binary_op_dtypes_match_torch():
    for other in ["float16", "float32", "float64", "int64"]:
        x = mg.ones(3, dtype=mg.bfloat16) * mg.ones(3, dtype=getattr(mg, other))
        t = torch.ones(3, dtype=torch.bfloat16) * torch.ones(3, dtype=getattr(torch, other))
        assert str(x.dtype) == str(t.dtype).replace("torch.", "")
    assert (mg.ones(3, dtype=mg.bfloat16) * 2.5).dtype == mg.bfloat16
    assert (mg.ones(3, dtype=mg.bfloat16) + mg.tensor(1.0)).dtype == mg.bfloat16


def test_conversion_rounds_like_torch():
    values = np.random.default_rng(0).normal(size=1000).astype(np.float32) * 1e3
    ours = mg.tensor(values).to(mg.bfloat16).float().numpy()
    theirs = torch.tensor(values).to(torch.bfloat16).float().numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert mg.tensor(values).bfloat16().dtype == mg.bfloat16
    assert mg.zeros(2, dtype=mg.bfloat16).is_floating_point()


def test_repr_and_finfo_match_torch():
    values = [1.5, -2.25, 3.3, 1e-3]
    ours = repr(mg.tensor(values, dtype=mg.bfloat16))
    theirs = repr(torch.tensor(values, dtype=torch.bfloat16))
    assert ours.replace("minigrad.", "torch.") == theirs
    a, b = mg.finfo(mg.bfloat16), torch.finfo(torch.bfloat16)
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(a, field) == getattr(b, field), field


def test_gradients_and_module_cast():
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.bfloat16, requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.dtype == mg.bfloat16
    np.testing.assert_array_equal(x.grad.float().numpy(), [2.0, 4.0, 6.0])
    w = mg.tensor([1.0, 2.0], requires_grad=True)          # float32 leaf, cast inside
    (w.bfloat16() * 3).sum().backward()
    assert w.grad.dtype == mg.float32
    layer = mg.nn.Linear(3, 2).bfloat16()
    assert layer.weight.dtype == mg.bfloat16 and layer.weight.requires_grad


@pytest.mark.parametrize("op", ["matmul", "conv2d", "sdpa"])
def test_half_products_accumulate_in_float32(op):
    rng = np.random.default_rng(1)
    if op == "matmul":
        a, b = rng.normal(size=(2, 33, 70)), rng.normal(size=(70, 17))
        run = lambda lib, x, y: x @ y                      # noqa: E731
    elif op == "conv2d":
        a, b = rng.normal(size=(2, 3, 9, 9)), rng.normal(size=(4, 3, 3, 3))
        run = lambda lib, x, y: lib.nn.functional.conv2d(x, y, padding=1)  # noqa: E731
    else:
        a, b = rng.normal(size=(2, 2, 6, 8)), rng.normal(size=(2, 2, 6, 8))
        run = lambda lib, x, y: lib.nn.functional.scaled_dot_product_attention(x, y, y)  # noqa
    ours = run(mg, mg.tensor(a).bfloat16(), mg.tensor(b).bfloat16())
    theirs = run(torch, torch.tensor(a).bfloat16(), torch.tensor(b).bfloat16())
    assert ours.dtype == mg.bfloat16
    # one bfloat16 rounding of a float32 sum: at most one unit in the last place apart
    np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=2 ** -7,
                               atol=1e-2 if op == "sdpa" else 1e-6)


def test_save_and_load_round_trip(tmp_path):
    x = mg.randn(4, 3).bfloat16()
    layer = mg.nn.Linear(3, 2).bfloat16()
    mg.save({"x": x, "layer": layer.state_dict()}, tmp_path / "bf16.pt")
    loaded = mg.load(tmp_path / "bf16.pt")
    assert loaded["x"].dtype == mg.bfloat16 and loaded["layer"]["weight"].dtype == mg.bfloat16
    np.testing.assert_array_equal(loaded["x"].float().numpy(), x.float().numpy())
    np.testing.assert_array_equal(loaded["layer"]["bias"].float().numpy(),
                                  layer.bias.detach().float().numpy())


def test_legacy_type_name_like_torch():
    x, t = mg.ones(2).bfloat16(), torch.ones(2).bfloat16()
    assert x.type() == t.type() == "torch.BFloat16Tensor"
    assert isinstance(x, mg.BFloat16Tensor) and not isinstance(mg.ones(2), mg.BFloat16Tensor)
    assert mg.ones(2).type("torch.BFloat16Tensor").dtype == mg.bfloat16
