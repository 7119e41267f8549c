"""autocast against torch.autocast on the CPU: the dtype every op returns inside a region
(lower-precision list, float32 list, neither), nesting and enabled=False, the decorator
form and the state queries, float64 left alone, the deprecated device aliases, and
gradients reaching float32 parameters as float32 with torch's values."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.amp import autocast_mode

try:
    import torch
except ImportError:
    pytest.skip("torch is the oracle here", allow_module_level=True)


def _inputs(lib, seed=0):
    rng = np.random.default_rng(seed)
    f = lambda *shape: lib.tensor(rng.normal(size=shape).astype(np.float32))  # noqa: E731
    return dict(x=f(4, 8), w=f(6, 8), b=f(6), img=f(2, 3, 8, 8), k=f(4, 3, 3, 3),
                q=f(2, 2, 5, 4), t=lib.tensor(rng.integers(0, 6, size=4)))


def _ops(lib, v):
    F = lib.nn.functional
    x, w, b, img, k, q, t = (v[n] for n in ("x", "w", "b", "img", "k", "q", "t"))
    y = F.linear(x, w, b)                   # lower precision inside the region
    conv = F.conv2d(img, k)
    return {
        "linear": y, "matmul": x @ w.T, "mm": lib.mm(x, w.T), "bmm": lib.bmm(q[0], q[0].mT),
        "addmm": lib.addmm(b, x, w.T), "baddbmm": lib.baddbmm(q[0] @ q[0].mT, q[0], q[0].mT),
        "conv2d": conv, "conv_transpose2d": F.conv_transpose2d(img, k.transpose(0, 1)),
        "sdpa": F.scaled_dot_product_attention(q, q, q),
        "einsum": lib.einsum("ij,kj->ik", x, w), "linear_f64": F.linear(x.double(), w.double()),
        "softmax_f32_in": F.softmax(x, -1), "softmax_low_in": F.softmax(y, -1),
        "log_softmax": F.log_softmax(y, -1), "layer_norm": F.layer_norm(y, (6,)),
        "layer_norm_f32_weight": F.layer_norm(y, (6,), lib.ones(6), lib.zeros(6)),
        "group_norm": F.group_norm(conv, 2), "sum": y.sum(), "mean": y.mean(),
        "cumsum": y.cumsum(0), "logsumexp": y.logsumexp(-1), "prod": y.prod(),
        "batch_norm": F.batch_norm(conv, lib.zeros(4), lib.ones(4), lib.ones(4), lib.zeros(4),
                                   training=True),
        "cross_entropy": F.cross_entropy(y, t), "nll_loss": F.nll_loss(y, t),
        "mse_loss": F.mse_loss(y, y.detach().float()), "l1_loss": F.l1_loss(y, y.detach()),
        "bce_with_logits": F.binary_cross_entropy_with_logits(y, lib.ones(4, 6) / 2),
        "gelu": F.gelu(y), "relu": F.relu(y), "exp": y.exp(), "tanh": y.tanh(),
        "max_pool2d": F.max_pool2d(conv, 2), "avg_pool2d": F.avg_pool2d(conv, 2),
        "dropout": F.dropout(y, 0.1), "embedding": F.embedding(t, w),
        "add_mixed": y + x[:, :6], "cat_mixed": lib.cat([y, x[:, :6]]),
    }


def _name(dtype):
    return str(dtype).replace("torch.", "")


@pytest.mark.parametrize("low", ["bfloat16", "float16"])
def test_output_dtypes_match_torch_cpu_autocast(low):
    with mg.autocast("cpu", dtype=getattr(mg, low)):
        ours = {k: _name(v.dtype) for k, v in _ops(mg, _inputs(mg)).items()}
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        theirs = {k: _name(v.dtype) for k, v in _ops(torch, _inputs(torch)).items()}
    assert ours == theirs
    assert ours["linear"] == low and ours["cross_entropy"] == "float32"   # (not vacuous)


def test_outside_a_region_nothing_is_cast():
    assert {v.dtype for v in _ops(mg, _inputs(mg)).values()} == {mg.float32, mg.float64}


def test_nesting_enabled_false_and_state_queries():
    x, w = mg.randn(3, 4), mg.randn(4, 2)
    assert not mg.is_autocast_enabled("cpu") and mg.get_autocast_dtype("cpu") == mg.bfloat16
    assert mg.get_autocast_dtype("cuda") == mg.float16 and not mg.is_autocast_enabled()
    with mg.autocast("cpu"):
        assert mg.is_autocast_enabled("cpu") and not mg.is_autocast_enabled("cuda")
        assert (x @ w).dtype == mg.bfloat16
        with mg.autocast("cpu", enabled=False):
            assert not mg.is_autocast_enabled("cpu")
            assert (x @ w).dtype == mg.float32
        with mg.autocast("cpu", dtype=mg.float16):
            assert (x @ w).dtype == mg.float16 and mg.get_autocast_dtype("cpu") == mg.float16
        assert (x @ w).dtype == mg.bfloat16 and mg.get_autocast_dtype("cpu") == mg.bfloat16
        with mg.autocast("cuda"):        # another device's region leaves CPU tensors alone
            assert (x @ w).dtype == mg.bfloat16
    assert not mg.is_autocast_enabled("cpu") and (x @ w).dtype == mg.float32
    mg.set_autocast_enabled("cpu", True)
    assert (x @ w).dtype == mg.bfloat16
    mg.set_autocast_enabled("cpu", False)
    assert autocast_mode._ACTIVE[0] == 0        # the ops' fast path is back on


def test_decorator_and_exception_restore_state():
    @mg.autocast("cpu", dtype=mg.bfloat16)
    def forward(a, b):
        return a @ b
    assert forward(mg.randn(2, 3), mg.randn(3, 2)).dtype == mg.bfloat16
    assert not mg.is_autocast_enabled("cpu")
    with pytest.raises(ZeroDivisionError):
        with mg.autocast("cpu"):
            1 / 0
    assert not mg.is_autocast_enabled("cpu")


def test_unsupported_dtype_warns_and_disables_like_torch():
    with pytest.warns(UserWarning, match="not supported"):
        ours = mg.autocast("cpu", dtype=mg.float64)
    with pytest.warns(UserWarning, match="not supported"):
        torch.autocast("cpu", dtype=torch.float64)
    with ours:
        assert not mg.is_autocast_enabled("cpu")
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        mg.autocast("tpu")


def test_device_aliases():
    with pytest.warns(FutureWarning, match="deprecated"):
        region = mg.cpu.amp.autocast()
    assert region.fast_dtype == mg.bfloat16 and region.device == "cpu"
    with pytest.warns(FutureWarning):
        assert mg.cuda.amp.autocast(enabled=False).fast_dtype == mg.float16
    assert mg.amp.autocast is mg.autocast
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mg.cpu.amp.autocast():
            assert (mg.randn(2, 2) @ mg.randn(2, 2)).dtype == mg.bfloat16


def _mlp_step(lib, seed, low):
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.normal(size=(8, 5)).astype(np.float32))
    t = lib.tensor(rng.integers(0, 3, size=8))
    w1 = lib.tensor(rng.normal(size=(16, 5)).astype(np.float32) / 2, requires_grad=True)
    w2 = lib.tensor(rng.normal(size=(3, 16)).astype(np.float32) / 4, requires_grad=True)
    g = lib.tensor(np.ones(16, np.float32), requires_grad=True)
    with lib.autocast("cpu", dtype=getattr(lib, low)):
        h = lib.nn.functional.layer_norm(lib.nn.functional.linear(x, w1), (16,), g)
        loss = lib.nn.functional.cross_entropy(lib.nn.functional.linear(h.relu(), w2), t)
    loss.backward()
    return loss, w1.grad, w2.grad, g.grad


@pytest.mark.parametrize("low", ["bfloat16", "float16"])
def test_gradients_are_float32_with_torchs_values(low):
    ours, theirs = _mlp_step(mg, 0, low), _mlp_step(torch, 0, low)
    assert ours[0].dtype == mg.float32
    for a, b in zip(ours, theirs):
        assert _name(a.dtype) == _name(b.dtype) == "float32"
        tol = 2e-2 if low == "bfloat16" else 2e-3
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)
