"""Issue 9, deliverable 1 (tensors on CuPy), device by device: ``to``/``cuda()``/``cpu()``,
``Module.to``, ``device=`` on the factories and ``*_like``, optimizer state on the
parameters' device, ``save``/``load`` with ``map_location``, DataLoader batches moved with
``non_blocking=True``, PyTorch's error for mixing devices, seeded draws that agree across
devices, the refusal to write into an ``expand()``ed view, and ``.item()``.

The ``[cuda]`` variants run with ``-m gpu`` on a GPU, or on the CPU under the fake CuPy
(``MINIGRAD_FAKE_CUDA=1``, ``tests/fake_cuda``)."""
import io

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.utils.data import DataLoader, TensorDataset
from tests.devices import CUDA_SKIP_REASON, assert_close, to_numpy

needs_cuda = [pytest.mark.gpu,
              pytest.mark.skipif(not mg.cuda_is_available(), reason=CUDA_SKIP_REASON)]


def array_module_name(t):
    """``numpy`` or ``cupy``: the module of a tensor's raw array type."""
    return type(t.array).__module__.split(".")[0]


def expected_module(device):
    return "numpy" if device == "cpu" else "cupy"


# ------------------------------------------------------------------------- moving tensors
def test_to_cuda_cpu_round_trip_keeps_values_dtype_and_autograd(device):
    host = mg.tensor([[1.5, -2.0], [3.0, 4.25]], requires_grad=True)
    moved = host.to(device)
    assert moved.device == device and moved.dtype == mg.float32
    assert array_module_name(moved) == expected_module(device)
    back = moved.cpu()
    assert back.device == "cpu" and type(back.array) is np.ndarray
    np.testing.assert_array_equal(back.detach().numpy(), host.detach().numpy())
    (moved * moved).sum().backward()                 # the copy is differentiable
    assert host.grad.device == "cpu"
    np.testing.assert_array_equal(host.grad.numpy(), 2 * host.detach().numpy())


def test_to_with_non_blocking_dtype_and_copy(device):
    t = mg.arange(6).reshape(2, 3)
    moved = t.to(device, mg.float64, non_blocking=True)
    assert moved.device == device and moved.dtype == mg.float64
    assert t.to(t.device) is t                       # already there: no copy, as PyTorch
    assert t.to(device, copy=True) is not t
    assert_close(moved, np.arange(6.0).reshape(2, 3))


def test_to_keeps_a_permuted_layout_and_packs_a_gapped_one(device):
    """PyTorch's ``to`` (memory_format=preserve_format) keeps the strides of a dense
    permuted tensor and makes any other layout contiguous; both ways across devices."""
    host = mg.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
    moved = host.to(device)
    assert moved.stride() == host.stride() == (1, 12, 4) and not moved.is_contiguous()
    back = moved.cpu()
    assert back.stride() == (1, 12, 4)
    np.testing.assert_array_equal(back.numpy(), host.numpy())
    gapped = mg.arange(10.0)[::2]
    assert gapped.to(device).stride() == ((2,) if device == "cpu" else (1,))
    assert_close(gapped.to(device), np.arange(0.0, 10.0, 2.0, dtype=np.float32))


@pytest.mark.parametrize("method", ["cuda", "cuda_index", "to"])
def test_cuda_method_and_index(method, device):
    if device == "cpu":
        pytest.skip("the cuda() method needs a CUDA device")
    t = mg.ones(3)
    moved = {"cuda": lambda: t.cuda(), "cuda_index": lambda: t.cuda(0),
             "to": lambda: t.to("cuda:0")}[method]()
    assert moved.device == "cuda:0" and moved.is_cuda and moved.get_device() == 0
    assert moved.cuda() is moved


def test_module_to_and_cuda_move_parameters_and_buffers(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert model.to(device) is model                 # in place, returns self
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        assert tensor.device == device, name
        assert array_module_name(tensor) == expected_module(device), name
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())
    out = model(mg.randn(5, 3, device=device))
    assert out.device == device
    out.sum().backward()
    assert all(p.grad.device == device for p in model.parameters())
    model.cpu()
    assert all(p.device == "cpu" and type(p.array) is np.ndarray for p in model.parameters())


# ------------------------------------------------------------------------- factories
FACTORIES = {
    "zeros": lambda d: mg.zeros(2, 3, device=d),
    "ones": lambda d: mg.ones(2, 3, device=d),
    "empty": lambda d: mg.empty(2, 3, device=d),
    "full": lambda d: mg.full((2, 3), 1.5, device=d),
    "rand": lambda d: mg.rand(2, 3, device=d),
    "randn": lambda d: mg.randn(2, 3, device=d),
    "randint": lambda d: mg.randint(0, 5, (2, 3), device=d),
    "randperm": lambda d: mg.randperm(6, device=d),
    "normal": lambda d: mg.normal(0.0, 1.0, (2, 3), device=d),
    "arange": lambda d: mg.arange(6, device=d),
    "linspace": lambda d: mg.linspace(0, 1, 5, device=d),
    "eye": lambda d: mg.eye(3, device=d),
    "tensor": lambda d: mg.tensor([[1.0, 2.0]], device=d),
    "as_tensor": lambda d: mg.as_tensor(np.ones((2, 2)), device=d),
}
LIKES = {
    "zeros_like": lambda t, **kw: mg.zeros_like(t, **kw),
    "ones_like": lambda t, **kw: mg.ones_like(t, **kw),
    "empty_like": lambda t, **kw: mg.empty_like(t, **kw),
    "full_like": lambda t, **kw: mg.full_like(t, 7.0, **kw),
    "rand_like": lambda t, **kw: mg.rand_like(t, **kw),
    "randn_like": lambda t, **kw: mg.randn_like(t, **kw),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factories_take_device(name, device):
    t = FACTORIES[name](device)
    assert t.device == device and array_module_name(t) == expected_module(device)


@pytest.mark.parametrize("name", sorted(LIKES))
def test_like_factories_follow_the_input_or_the_device_argument(name, device):
    on_device = mg.ones(2, 3, device=device)
    assert LIKES[name](on_device).device == device
    assert LIKES[name](mg.ones(2, 3), device=device).device == device
    assert LIKES[name](on_device, device="cpu").device == "cpu"


# ------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("optimizer", ["Adam", "AdamW", "SGD", "RMSprop", "Adagrad"])
def test_optimizer_state_lives_on_the_parameters_device(optimizer, device):
    mg.manual_seed(0)
    model = nn.Linear(3, 2).to(device)
    kwargs = {"momentum": 0.9} if optimizer in ("SGD", "RMSprop") else {}
    opt = getattr(mg.optim, optimizer)(model.parameters(), lr=0.1, **kwargs)
    before = to_numpy(model.weight).copy()
    model(mg.randn(4, 3, device=device)).pow(2).sum().backward()
    opt.step()
    assert not np.array_equal(to_numpy(model.weight), before)
    assert model.weight.device == device
    state = opt.state[model.weight]
    assert state, optimizer
    for key, value in state.items():
        if not isinstance(value, mg.Tensor):
            continue
        # PyTorch keeps the step count on the CPU unless capturable/fused; the rest follows
        # the parameter.
        expected = "cpu" if key == "step" else device
        assert value.device == expected, (optimizer, key)


def test_optimizer_steps_agree_across_devices(device):
    """A few Adam steps on ``device`` give the CPU's parameters."""
    results = {}
    for where in ("cpu", device):
        mg.manual_seed(3)
        model = nn.Linear(4, 3).to(where)
        opt = mg.optim.Adam(model.parameters(), lr=0.05, weight_decay=0.01)
        x = mg.randn(8, 4).to(where)
        for _ in range(3):
            opt.zero_grad()
            model(x).tanh().sum().backward()
            opt.step()
        results[where] = to_numpy(model.weight)
    assert_close(results[device], results["cpu"], rtol=1e-5, atol=1e-6)


def test_load_state_dict_moves_state_to_the_parameters_device(device):
    """PyTorch casts a loaded state to the parameter's device and dtype, except ``step``."""
    mg.manual_seed(1)
    source = nn.Linear(3, 2)
    opt = mg.optim.Adam(source.parameters())
    source(mg.randn(4, 3)).sum().backward()
    opt.step()
    saved = opt.state_dict()                         # on the CPU
    target = nn.Linear(3, 2).to(device)
    target_opt = mg.optim.Adam(target.parameters())
    target_opt.load_state_dict(saved)
    state = target_opt.state[target.weight]
    assert state["exp_avg"].device == device and state["exp_avg_sq"].device == device
    assert state["step"].device == "cpu"
    assert_close(state["exp_avg"], opt.state[source.weight]["exp_avg"])


# ------------------------------------------------------------------------- save / load
def test_save_on_device_and_load_with_map_location(device):
    model = nn.Linear(3, 2).to(device)
    buffer = io.BytesIO()
    mg.save({"model": model.state_dict(), "extra": mg.arange(3, device=device)}, buffer)
    for map_location, expected in [(None, device), ("cpu", "cpu"), (mg.device("cpu"), "cpu"),
                                   ({"cuda:0": "cpu"}, "cpu"), (device, device)]:
        buffer.seek(0)
        loaded = mg.load(buffer, map_location=map_location)
        for name, value in list(loaded["model"].items()) + [("extra", loaded["extra"])]:
            assert value.device == expected, (map_location, name)
            assert array_module_name(value) == expected_module(expected)
        assert_close(loaded["model"]["weight"], model.weight)
    buffer.seek(0)
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(mg.load(buffer, map_location="cpu")["model"])
    assert_close(fresh.weight, model.weight)


# ------------------------------------------------------------------------- data loading
def test_dataloader_batches_move_with_non_blocking(device):
    data = TensorDataset(mg.arange(20.0).reshape(10, 2), mg.arange(10))
    loader = DataLoader(data, batch_size=4, pin_memory=mg.cuda_is_available())
    seen = []
    for x, y in loader:
        assert x.device == "cpu"                     # batches are built on the host
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        assert x.device == device and y.device == device
        seen.append(to_numpy((x * 2).sum(1) + y))
    np.testing.assert_array_equal(np.concatenate(seen), 9 * np.arange(10) + 2)


@pytest.mark.parametrize("_", [0], ids=[""])
def test_pin_memory_copies_on_the_host(_, device):
    if device == "cpu":
        pytest.skip("pin_memory needs a CUDA device (PyTorch raises without one)")
    t = mg.arange(4.0)
    pinned = t.pin_memory()
    assert pinned.device == "cpu" and pinned is not t
    np.testing.assert_array_equal(pinned.numpy(), t.numpy())
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        t.to(device).pin_memory()


# ------------------------------------------------------------------------- mixing devices
MIXED = {
    "add": lambda a, b: a + b,
    "mul_reflected": lambda a, b: b * a,
    "matmul": lambda a, b: a.reshape(2, 2) @ b.reshape(2, 2),
    "where": lambda a, b: mg.where(a > 0, a, b),
    "cat": lambda a, b: mg.cat([a, b]),
    "copy_into_inplace": lambda a, b: a.add_(b),
}


@pytest.mark.parametrize("op", sorted(MIXED))
@pytest.mark.parametrize("cuda_first", [True, False], ids=["cuda_first", "cpu_first"])
def test_mixing_devices_is_pytorchs_runtime_error(op, cuda_first, device):
    if device == "cpu":
        pytest.skip("needs a second device")
    gpu, cpu = mg.ones(4, device=device), mg.ones(4)
    a, b = (gpu, cpu) if cuda_first else (cpu, gpu)
    # PyTorch's TensorIterator message names the device the op runs on (the GPU) first.
    with pytest.raises(RuntimeError, match=r"^Expected all tensors to be on the same device, "
                                           r"but found at least two devices, cuda:0 and cpu!$"):
        MIXED[op](a, b)


def test_a_zero_dim_cpu_tensor_joins_a_gpu_op(device):
    """PyTorch lets a CPU scalar tensor take part in a pointwise op on the GPU; its gradient
    comes back on the CPU."""
    scale = mg.tensor(3.0, requires_grad=True)
    x = mg.arange(4.0, device=device, requires_grad=True)
    out = x * scale
    assert out.device == device
    out.sum().backward()
    assert scale.grad.device == "cpu" and x.grad.device == device
    assert float(scale.grad) == 6.0
    assert_close(x.grad, np.full(4, 3.0, np.float32))


# ------------------------------------------------------------------------- random numbers
@pytest.mark.parametrize("draw", ["randn", "rand", "randint", "randperm", "dropout", "normal_"])
def test_same_seed_same_numbers_on_every_device(draw, device):
    """Random numbers are drawn on the host from minigrad's generator and moved, so a seed
    gives the same values on the CPU and on CUDA (PyTorch's CUDA generator differs from its
    CPU one; minigrad chooses reproducibility across devices)."""
    make = {"randn": lambda d: mg.randn(3, 4, device=d),
            "rand": lambda d: mg.rand(3, 4, device=d),
            "randint": lambda d: mg.randint(0, 100, (12,), device=d),
            "randperm": lambda d: mg.randperm(12, device=d),
            "dropout": lambda d: nn.functional.dropout(mg.ones(3, 4, device=d), 0.5),
            "normal_": lambda d: mg.empty(3, 4, device=d).normal_()}[draw]
    mg.manual_seed(1234)
    on_cpu = make("cpu")
    mg.manual_seed(1234)
    here = make(device)
    assert here.device == device
    np.testing.assert_array_equal(to_numpy(here), to_numpy(on_cpu))


# ------------------------------------------------------------------------- in-place writes
@pytest.mark.parametrize("write", ["add_", "setitem", "fill_", "mul_"])
def test_writing_into_an_expanded_view_is_refused(write, device):
    """numpy marks a broadcast view read-only, CuPy has no such flag: the refusal must come
    from the strides (PyTorch's internal-overlap check), on every device."""
    base = mg.ones(1, 3, device=device)
    view = base.expand(4, 3)
    action = {"add_": lambda: view.add_(1), "setitem": lambda: view.__setitem__(0, 5.0),
              "fill_": lambda: view.fill_(2.0), "mul_": lambda: view.mul_(mg.ones(4, 3, device=device))}
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        action[write]()
    np.testing.assert_array_equal(to_numpy(base), np.ones((1, 3), np.float32))
    view.clone().add_(1)                             # a clone may be written


def test_item_and_python_scalars(device):
    t = mg.tensor([2.5, -1.0], device=device)
    value = t.sum().item()
    assert type(value) is float and value == 1.5
    assert type(mg.tensor(7, device=device).item()) is int
    assert float(t[0]) == 2.5 and int(t[1]) == -1 and bool(t[0] > 0)
    assert t.tolist() == [2.5, -1.0]
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        t.item()
