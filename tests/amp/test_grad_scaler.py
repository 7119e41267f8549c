"""GradScaler against torch.amp.GradScaler('cpu') on identical runs: the scale's growth and
backoff, the growth tracker, skipped steps when a gradient is inf/NaN, unscale_ before
clip_grad_norm_, state_dict round trips, the disabled scaler and PyTorch's usage errors."""
import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:
    pytest.skip("torch is the oracle here", allow_module_level=True)


def _run(lib, bad_steps, clip=None, steps=7, **scaler_args):
    """A tiny regression trained with SGD through a scaler; on ``bad_steps`` the gradient of
    one parameter is overwritten with inf. Returns the scale/tracker history, the step
    results and the final parameters."""
    rng = np.random.default_rng(0)
    w = lib.tensor(rng.normal(size=(3, 4)).astype(np.float32), requires_grad=True)
    b = lib.tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = lib.optim.SGD([w, b], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **scaler_args)
    history = []
    for i in range(steps):
        x = lib.tensor(rng.normal(size=(5, 4)).astype(np.float32))
        opt.zero_grad()
        loss = ((x @ w.T + b) ** 2).mean()
        scaled = scaler.scale(loss)
        scaled.backward()
        if i in bad_steps:
            b.grad[0] = float("inf") if i % 2 else float("nan")
        if clip is not None:
            scaler.unscale_(opt)
            norm = lib.nn.utils.clip_grad_norm_([w, b], clip)
            history.append(("norm", float(norm)))
        result = scaler.step(opt)
        scaler.update()
        history.append((float(scaled.detach()), result is None, scaler.get_scale(),
                        scaler._get_growth_tracker()))
    return history, w.detach().numpy(), b.detach().numpy(), scaler.state_dict()


@pytest.mark.parametrize("bad_steps,clip", [((), None), ((2, 3), None), ((1, 5), 0.5),
                                            ((), 0.1)])
def test_matches_torch(bad_steps, clip):
    args = dict(init_scale=2.0 ** 10, growth_factor=4.0, backoff_factor=0.25, growth_interval=2)
    ours = _run(mg, bad_steps, clip, **args)
    theirs = _run(torch, bad_steps, clip, **args)
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(np.array(a[1:] if a[0] == "norm" else a, dtype=float),
                                   np.array(b[1:] if b[0] == "norm" else b, dtype=float),
                                   rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6)
    assert ours[3] == theirs[3]
    scales = [args["init_scale"]] + [h[2] for h in ours[0] if h[0] != "norm"]
    backoffs = sum(after < before for before, after in zip(scales, scales[1:]))
    assert backoffs == len(bad_steps)     # each bad step backed the scale off
    assert max(scales) > min(scales)      # and runs of two good steps grew it


def test_state_dict_round_trip_and_defaults():
    scaler, ref = mg.amp.GradScaler("cpu"), torch.amp.GradScaler("cpu")
    assert scaler.state_dict() == ref.state_dict()
    assert scaler.get_scale() == ref.get_scale() == 65536.0
    loaded = mg.amp.GradScaler("cpu", init_scale=1.0)
    loaded.load_state_dict({"scale": 8.0, "growth_factor": 3.0, "backoff_factor": 0.1,
                            "growth_interval": 7, "_growth_tracker": 2})
    assert loaded.get_scale() == 8.0 and loaded.get_growth_interval() == 7
    assert loaded.scale(mg.tensor(2.0)).item() == 16.0
    assert loaded.state_dict()["_growth_tracker"] == 2
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        loaded.load_state_dict({})


def test_disabled_scaler_is_transparent():
    scaler = mg.amp.GradScaler("cpu", enabled=False)
    loss = mg.tensor(3.0)
    assert scaler.scale(loss) is loss and scaler.state_dict() == {}
    assert scaler.get_scale() == 1.0 and not scaler.is_enabled()
    with pytest.warns(UserWarning, match="CUDA is not available"):
        if not mg.cuda_is_available():
            assert not mg.amp.GradScaler().is_enabled()
        else:
            import warnings
            warnings.warn("CUDA is not available (skipped: CUDA is available)")
    with pytest.warns(FutureWarning):
        assert mg.cpu.amp.GradScaler().is_enabled()


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_usage_errors_like_torch():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = mg.optim.SGD([w], lr=0.1)
    scaler = mg.amp.GradScaler("cpu")
    with pytest.raises(AssertionError, match="_scale is None"):
        scaler.step(opt)
    scaler.scale((w * w).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    scaler.update()
    with pytest.raises(AssertionError, match="No inf checks"):
        scaler.update()
    with pytest.raises(RuntimeError, match="Closure"):
        scaler.step(opt, closure=lambda: 0.0)
    half = mg.tensor([1.0], dtype=mg.float16, requires_grad=True)
    opt16 = mg.optim.SGD([half], lr=0.1)
    scaler.scale(half.sum()).backward()
    with pytest.raises(ValueError, match="unscale FP16 gradients"):
        scaler.unscale_(opt16)
