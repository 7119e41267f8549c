"""Adam's one-launch flat path (``FLAT_ARRAY_MODULES``, ``flat_buffers.py``), checked on CPU
by letting numpy parameters take it: dispatch then runs the ``adam_update`` reference, so
the flat path must reproduce the per-parameter array path bit for bit, keep the Tensor
objects, state_dict and version counters as they were, and re-pack when something
re-binds an array.  On a GPU the same wiring calls the numba.cuda kernel
(``tests/kernels/test_cuda_fused_kernels.py`` holds it to the reference bit for bit)."""
import numpy as np
import pytest

import minigrad as mg
import minigrad_kernels as kernels
from minigrad import nn, optim
from minigrad.optim import flat_buffers
from tests.optim.test_optimizer_paths import ADAM_CASES, trajectory


@pytest.fixture
def flat_on_cpu(monkeypatch):
    monkeypatch.setattr(optim.Adam, "FLAT_ARRAY_MODULES", ("cupy", "numpy"))


@pytest.fixture
def count_updates(monkeypatch):
    calls = []
    original = kernels.CATALOGUE.dispatch

    def counting(name, *args, **kwargs):
        if name == "adam_update":
            calls.append(args[0].size)
        return original(name, *args, **kwargs)

    monkeypatch.setattr(kernels.CATALOGUE, "dispatch", counting)
    return calls


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls_name, kwargs", [(name, dict(lr=0.05, eps=1e-6, **kw))
                                              for name in ("Adam", "AdamW") for kw in ADAM_CASES],
                         ids=str)
def test_flat_path_equals_per_parameter_path(cls_name, kwargs, dtype, monkeypatch):
    want, _, _ = trajectory(cls_name, kwargs, dtype, "cpu")
    monkeypatch.setattr(optim.Adam, "FLAT_ARRAY_MODULES", ("numpy",))
    got, opt, params = trajectory(cls_name, kwargs, dtype, "cpu")
    assert opt._flat_buffers, "the flat path did not run"
    for (want_params, want_state), (got_params, got_state) in zip(want, got):
        for w, g in zip(want_params, got_params):
            np.testing.assert_array_equal(g, w)
        assert want_state.keys() == got_state.keys()
        for key in want_state:
            np.testing.assert_array_equal(got_state[key], want_state[key], err_msg=str(key))


def _model(rng, dtype=np.float32):
    return [nn.Parameter(mg.tensor(rng.standard_normal(s).astype(dtype))) for s in
            [(3, 4), (4,), (), (2, 2, 2)]]


def _backward(params, seed):
    rng = np.random.default_rng(seed)
    loss = sum(((p * mg.tensor(rng.standard_normal(p.shape).astype(p.array.dtype))) ** 2).sum()
               for p in params)
    loss.backward()


def test_one_update_per_bucket_and_params_become_views(flat_on_cpu, count_updates):
    rng = np.random.default_rng(0)
    params = _model(rng)
    ids = [id(p) for p in params]
    opt = optim.Adam(params, lr=0.1, amsgrad=True)
    for step in range(3):
        opt.zero_grad()
        _backward(params, step)
        opt.step()
    assert count_updates == [4 * 3 + 4 + 1 + 8] * 3          # one call per step, all elements
    [flat] = opt._flat_buffers.values()
    assert [id(p) for p in params] == ids
    for p in params:
        assert np.shares_memory(p.array, flat.theta)
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert np.shares_memory(opt.state[p][key].array, flat.state[key])
    assert all(p._version == 3 for p in params)
    assert all(float(opt.state[p]["step"]) == 3 for p in params)


def test_dtypes_get_separate_buckets(flat_on_cpu, count_updates):
    rng = np.random.default_rng(1)
    params = _model(rng, np.float32)[:2] + _model(rng, np.float64)[:2]
    opt = optim.Adam(params, lr=0.1)
    (sum((p * p).sum() for p in params[:2]) + sum((p * p).sum() for p in params[2:])).backward()
    opt.step()
    assert sorted(count_updates) == [16, 16]
    assert {key[2] for key in opt._flat_buffers} == {np.dtype(np.float32), np.dtype(np.float64)}


def test_load_state_dict_and_a_missing_gradient_repack(flat_on_cpu):
    rng = np.random.default_rng(2)
    params = _model(rng)
    opt = optim.AdamW(params, lr=0.1)
    twin_params = [nn.Parameter(p.detach().clone()) for p in params]
    twin = optim.AdamW(twin_params, lr=0.1)
    for step in range(2):
        for ps, o in ((params, opt), (twin_params, twin)):
            o.zero_grad()
            _backward(ps, step)
            o.step()
    first = next(iter(opt._flat_buffers.values()))
    opt.load_state_dict(twin.state_dict())           # state tensors replaced: must re-pack
    for ps, o in ((params, opt), (twin_params, twin)):
        o.zero_grad()
        _backward(ps[:3], 7)                          # the last parameter has no gradient
        o.step()
    second = next(iter(opt._flat_buffers.values()))
    assert second is not first
    assert second.theta.size == 4 * 3 + 4 + 1
    for p, q in zip(params, twin_params):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6)


def test_different_step_counts_take_the_per_parameter_path(flat_on_cpu, count_updates):
    rng = np.random.default_rng(3)
    first, second = _model(rng)[:2]
    opt = optim.Adam([first], lr=0.1)
    (first * first).sum().backward()
    opt.step()
    opt.add_param_group({"params": [second]})
    opt.param_groups[0]["params"].append(opt.param_groups[1]["params"].pop())
    opt.param_groups.pop()
    ((first * first).sum() + (second * second).sum()).backward()
    opt.step()
    assert count_updates == [12]                      # only the first step went flat
    assert float(opt.state[first]["step"]) == 2 and float(opt.state[second]["step"]) == 1


def test_flat_buffers_detect_a_rebound_array():
    rng = np.random.default_rng(4)
    params = _model(rng)
    states = [{"m": mg.zeros_like(p)} for p in params]
    flat = flat_buffers.FlatBuffers(np, params, states, ("m",))
    assert flat.holds(params, states, ("m",))
    assert not flat.holds(params[:3], states[:3], ("m",))
    assert not flat.holds(params, states, ("m", "v"))
    params[1].array = params[1].array.copy()
    assert not flat.holds(params, states, ("m",))
    np.testing.assert_array_equal(flat.gather_grads(np, [p.array for p in params]), flat.theta)


@pytest.mark.parametrize("kwargs", [dict(amsgrad=True, weight_decay=0.05),
                                    dict(maximize=True, weight_decay=0.1, betas=(0.5, 0.0))],
                         ids=["amsgrad-l2", "maximize-beta2-0"])
@pytest.mark.parametrize("cls_name", ["Adam", "AdamW"])
def test_flat_path_through_the_simulated_cuda_kernel_is_bit_identical(cls_name, kwargs,
                                                                       monkeypatch):
    """The whole GPU wiring on CPU: the numba.cuda ``adam_update`` kernel (in the CUDA
    simulator, registered for numpy arrays under a test backend) driven by the optimizer's
    flat path reproduces the per-parameter CPU path bit for bit in float32."""
    pytest.importorskip("minigrad_kernels.cuda", reason="numba.cuda is not installed")
    from minigrad_kernels.cuda import optimizer as cuda_optimizer
    from minigrad_kernels.cuda._launch import SIMULATED
    if not SIMULATED:
        pytest.skip("the simulator runs the CUDA kernel on numpy arrays")
    kwargs = dict(lr=0.05, eps=1e-6, **kwargs)
    want, _, _ = trajectory(cls_name, kwargs, "float32", "cpu")
    backend = "simulated-cuda-adam"
    kernels.CATALOGUE.add_backend(backend, device="numpy")
    launched = []

    def kernel(*args):
        launched.append(args[0].size)
        return cuda_optimizer.adam_update(*args)
    try:
        kernels.CATALOGUE.register("adam_update", backend, kernel,
                                   accepts=cuda_optimizer.accepts_adam)
        monkeypatch.setattr(optim.Adam, "FLAT_ARRAY_MODULES", ("numpy",))
        with kernels.use(backend):
            got, _, _ = trajectory(cls_name, kwargs, "float32", "cpu")
    finally:
        kernels.CATALOGUE.remove_backend(backend)
    assert launched == [4 * 3 + 3 + 1] * len(want)   # one launch a step (a 2-d one has no grad)
    for (want_params, want_state), (got_params, got_state) in zip(want, got):
        for w, g in zip(want_params, got_params):
            np.testing.assert_array_equal(g, w)
        for key in want_state:
            np.testing.assert_array_equal(got_state[key], want_state[key], err_msg=str(key))
