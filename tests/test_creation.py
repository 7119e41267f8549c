"""Tensor creation: ``tensor`` dtype inference, ``from_numpy`` memory sharing,
zeros/ones/empty/full and their ``_like`` forms, the random constructors, arange/linspace/eye
(shapes and dtypes identical to PyTorch's), seeding, requires_grad rules, empty tensors."""
import numpy as np
import pytest

import minigrad as mg


def torch_or_skip():
    return pytest.importorskip("torch")


def same_as_torch(ours, theirs, values=True):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    assert ours.requires_grad == theirs.requires_grad
    if values:
        # atol: float32 ranges may differ from torch's by an ulp around 0.
        np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), rtol=1e-6,
                                   atol=1e-6)


# ---------------------------------------------------------------------- tensor()
@pytest.mark.parametrize("data,dtype", [
    ([1.0, 2.0], mg.float32), (3.5, mg.float32), ([1, 2], mg.int64), (3, mg.int64),
    ([True, False], mg.bool), (True, mg.bool), ([1, 2.5], mg.float32), ([[1], [2]], mg.int64),
    ([True, 2], mg.int64), ([], mg.float32), ([[]], mg.float32),
    (np.ones(2), mg.float64), (np.ones(2, np.float32), mg.float32), (np.ones(2, np.int32), mg.int32),
    (np.ones(2, np.uint8), mg.uint8), (np.float64(1.0), mg.float64), (np.float32(1.0), mg.float32),
    (np.int32(1), mg.int32), (np.bool_(True), mg.bool), (np.array(2.0), mg.float64),
])
def test_tensor_dtype_inference(data, dtype, device):
    t = mg.tensor(data, device=device)
    assert t.dtype == dtype
    torch = pytest.importorskip("torch")
    same_as_torch(t, torch.tensor(data))


def test_tensor_explicit_dtype_and_requires_grad(device):
    t = mg.tensor([1, 2], dtype=mg.float64, requires_grad=True, device=device)
    assert t.dtype == mg.float64 and t.requires_grad and t.is_leaf
    assert mg.tensor([1.7, -2.2], dtype=mg.int32, device=device).tolist() == [1, -2]
    assert mg.tensor([1, 2], dtype="float16", device=device).dtype == mg.float16
    assert mg.tensor([1, 2], dtype=float, device=device).dtype == mg.float32


def test_tensor_copies_its_data():
    array = np.zeros(3)
    t = mg.tensor(array)
    array[0] = 5.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    source = mg.zeros(2)
    copy = mg.tensor(source)
    source.add_(1.0)
    assert copy.tolist() == [0.0, 0.0]


def test_tensor_from_list_of_tensors(device):
    t = mg.tensor([mg.tensor(1.0, device=device), mg.tensor(2.0, device=device)], device=device)
    assert t.tolist() == [1.0, 2.0] and t.dtype == mg.float32


@pytest.mark.parametrize("data", ["a", [[1], [1, 2]], object()])
def test_tensor_rejects_non_numeric_data(data):
    with pytest.raises((TypeError, ValueError)):
        mg.tensor(data)


def test_requires_grad_on_integer_raises_runtime_error():
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):
        mg.zeros(2, dtype=mg.int64, requires_grad=True)
    with pytest.raises(RuntimeError):
        mg.tensor([True], requires_grad=True)
    with pytest.raises(RuntimeError):
        mg.arange(3, requires_grad=True)


# ---------------------------------------------------------------------- from_numpy / as_tensor
def test_from_numpy_shares_memory_both_ways():
    array = np.zeros((2, 3), dtype=np.float32)
    t = mg.from_numpy(array)
    assert t.dtype == mg.float32
    array[0, 0] = 7.0
    assert t.tolist()[0][0] == 7.0
    t.add_(1.0)
    assert array[1, 2] == 1.0
    assert t.numpy() is array or np.shares_memory(t.numpy(), array)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8,
                                   np.bool_])
def test_from_numpy_keeps_dtype(dtype):
    assert mg.from_numpy(np.zeros(2, dtype=dtype)).dtype == np.dtype(dtype)


def test_from_numpy_rejects_non_arrays_and_unsupported_dtypes():
    with pytest.raises(TypeError):
        mg.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError):
        mg.from_numpy(np.zeros(2, dtype=np.complex64))


def test_as_tensor_shares_when_it_can():
    array = np.zeros(3)
    t = mg.as_tensor(array)
    array[1] = 2.0
    assert t.tolist() == [0.0, 2.0, 0.0]
    existing = mg.ones(2)
    assert mg.as_tensor(existing) is existing


# ---------------------------------------------------------------------- zeros / ones / empty / full
@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([2, 3],), ((),), (0,), (0, 4), (5,)])
def test_filled_constructors_match_torch(name, size, device):
    torch = torch_or_skip()
    ours, theirs = getattr(mg, name)(*size, device=device), getattr(torch, name)(*size)
    same_as_torch(ours, theirs, values=name != "empty")


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("dtype", [mg.float64, mg.float16, mg.int32, mg.int64, mg.bool])
def test_filled_constructors_dtype(name, dtype, device):
    t = getattr(mg, name)(2, 2, dtype=dtype, device=device)
    assert t.dtype == dtype and tuple(t.shape) == (2, 2) and t.device == device


def test_filled_constructors_requires_grad_and_device():
    t = mg.zeros(2, requires_grad=True, device="cpu")
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    assert mg.ones((3,), device=mg.device("cpu")).device == "cpu"


@pytest.mark.parametrize("size", [(-1,), (2, -3)])
def test_negative_size_raises(size):
    with pytest.raises(RuntimeError):
        mg.zeros(*size)


@pytest.mark.parametrize("value,dtype", [(3, None), (3.0, None), (True, None), (2.5, mg.float64),
                                         (7, mg.int32), (np.float64(1.5), None)])
def test_full_matches_torch(value, dtype, device):
    torch = torch_or_skip()
    kwargs = {} if dtype is None else {"dtype": getattr(torch, str(dtype))}
    ours = mg.full((2, 3), value, **({} if dtype is None else {"dtype": dtype}), device=device)
    theirs = torch.full((2, 3), value, **kwargs)
    same_as_torch(ours, theirs)
    assert mg.full([2], 1.0, device=device).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "randn_like", "rand_like"])
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_like_constructors(name, dtype, device):
    torch = torch_or_skip()
    x = mg.ones(2, 3, dtype=dtype, device=device)
    ours = getattr(mg, name)(x)
    theirs = getattr(torch, name)(torch.ones(2, 3, dtype=getattr(torch, str(dtype))))
    same_as_torch(ours, theirs, values=name in ("zeros_like", "ones_like"))
    assert getattr(mg, name)(x, dtype=mg.float16).dtype == mg.float16


def test_like_constructors_keep_integer_dtype_and_full_like(device):
    x = mg.ones(3, dtype=mg.int32, device=device)
    assert mg.zeros_like(x).dtype == mg.int32 and mg.ones_like(x).dtype == mg.int32
    filled = mg.full_like(x, 2.7)
    assert filled.dtype == mg.int32 and filled.tolist() == [2, 2, 2]
    assert mg.zeros_like(mg.ones(2, device=device), requires_grad=True).requires_grad


# ---------------------------------------------------------------------- random
@pytest.mark.parametrize("name", ["randn", "rand"])
@pytest.mark.parametrize("args,kwargs", [((2, 3), {}), (((2, 3),), {}), ((4,), {"dtype": "float64"}),
                                         ((0, 2), {}), (((),), {}), ((3,), {"requires_grad": True})])
def test_random_floats_match_torch_shape_and_dtype(name, args, kwargs, device):
    torch = torch_or_skip()
    torch_kwargs = dict(kwargs)
    if "dtype" in kwargs:
        torch_kwargs["dtype"] = getattr(torch, kwargs["dtype"])
    same_as_torch(getattr(mg, name)(*args, **kwargs, device=device), getattr(torch, name)(*args, **torch_kwargs),
                  values=False)


def test_random_value_ranges(device):
    mg.manual_seed(0)
    u = mg.rand(10_000, device=device).cpu().numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02
    n = mg.randn(10_000, device=device).cpu().numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05


def test_random_on_integer_dtype_raises():
    with pytest.raises(RuntimeError):
        mg.randn(2, dtype=mg.int64)


@pytest.mark.parametrize("args,kwargs,bounds", [
    ((5, (3,)), {}, (0, 5)), ((2, 5, (3, 2)), {}, (2, 5)), ((5,), {"size": (30,)}, (0, 5)),
    ((-3, 5, (30,)), {"dtype": "int32"}, (-3, 5)), ((10, (0,)), {}, (0, 10))])
def test_randint_matches_torch_shape_and_dtype(args, kwargs, bounds, device):
    torch = torch_or_skip()
    torch_kwargs = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    ours = mg.randint(*args, **kwargs, device=device)
    same_as_torch(ours, torch.randint(*args, **torch_kwargs), values=False)
    if ours.numel():
        assert ours.cpu().numpy().min() >= bounds[0] and ours.cpu().numpy().max() < bounds[1]


def test_randint_errors():
    with pytest.raises(RuntimeError):
        mg.randint(5, 5, (3,))
    with pytest.raises(TypeError):
        mg.randint(5)


def test_manual_seed_reproducibility(device):
    mg.manual_seed(1234)
    first = [mg.randn(3, device=device).tolist(), mg.rand(2, 2, device=device).tolist(), mg.randint(0, 100, (4,), device=device).tolist(),
             mg.randperm(6, device=device).tolist()]
    mg.manual_seed(1234)
    second = [mg.randn(3, device=device).tolist(), mg.rand(2, 2, device=device).tolist(), mg.randint(0, 100, (4,), device=device).tolist(),
              mg.randperm(6, device=device).tolist()]
    assert first == second
    mg.manual_seed(4321)
    assert mg.randn(3, device=device).tolist() != first[0]


def test_randperm_is_a_permutation(device):
    p = mg.randperm(10, device=device)
    assert p.dtype == mg.int64 and sorted(p.tolist()) == list(range(10))


# ---------------------------------------------------------------------- arange / linspace / eye
@pytest.mark.parametrize("args,kwargs", [
    ((5,), {}), ((5.0,), {}), ((1, 5), {}), ((0, 1, 0.1), {}), ((0, 1, 0.3), {}), ((1, 2.5, 0.5), {}),
    ((5, 0, -1), {}), ((0, -3.3, -1.1), {}), ((0,), {}), ((-1.0, 1.0, 0.1), {}), ((0, 10, 3), {}),
    ((5,), {"dtype": "float64"}), ((0, 2, 0.25), {"dtype": "float64"}), ((0.5, 4), {"dtype": "int64"}),
    ((np.int64(3),), {}),
])
def test_arange_matches_torch(args, kwargs, device):
    torch = torch_or_skip()
    torch_kwargs = {k: getattr(torch, v) for k, v in kwargs.items()}
    same_as_torch(mg.arange(*args, **kwargs, device=device), torch.arange(*args, **torch_kwargs))


def test_arange_with_tensor_bounds_and_errors(device):
    assert mg.arange(mg.tensor(3, device=device), device=device).dtype == mg.int64
    assert mg.arange(mg.tensor(3.0, device=device), device=device).dtype == mg.float32
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        mg.arange(0, 5, 0, device=device)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        mg.arange(5, 0, device=device)


@pytest.mark.parametrize("args,kwargs", [((0, 1, 5), {}), ((0, 10, 5), {}), ((0, 1, 1), {}), ((0, 1, 0), {}),
                                         ((-1, 1, 4), {"dtype": "float64"}), ((0, 10, 5), {"dtype": "int64"}),
                                         ((2.5, -2.5, 7), {})])
def test_linspace_matches_torch(args, kwargs, device):
    torch = torch_or_skip()
    torch_kwargs = {k: getattr(torch, v) for k, v in kwargs.items()}
    same_as_torch(mg.linspace(*args, **kwargs, device=device),
                  torch.linspace(*args, **torch_kwargs))


def test_linspace_negative_steps_raises():
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        mg.linspace(0, 1, -1)


@pytest.mark.parametrize("args, dtype", [
    ((0, 10, 4), "int64"), ((-5, 10, 7), "int64"), ((10, -5, 7), "int32"), ((0, 255, 7), "uint8"),
    ((0.5, 10.7, 5), "int64"), ((-0.5, 5, 4), "int64"), ((0, 7, 5), "int8"), ((3, 3, 4), "int16"),
    ((0, 1, 1), "int64"), ((0, 100, 7), "float32"), ((-3.3, 7.1, 11), "float32"),
    ((0, 1, 5), "float16"), ((-1, 1, 3), "float64")])
def test_linspace_integer_and_float_rules_match_torch(args, dtype, device):
    """Integer outputs truncate start and end first and each value (linspace(0.5, 10.7, 5)
    is [0, 2, 5, 7, 10], not numpy's rounding of the float range)."""
    torch = torch_or_skip()
    ours = mg.linspace(*args, dtype=getattr(mg, dtype), device=device)
    theirs = torch.linspace(*args, dtype=getattr(torch, dtype))
    same_as_torch(ours, theirs)
    if dtype[0] in "iu":
        assert ours.tolist() == theirs.tolist()


def test_linspace_raises_where_torch_raises(device):
    torch = torch_or_skip()
    with pytest.raises(NotImplementedError, match="\"linspace_cpu\" not implemented for 'Bool'"):
        torch.linspace(0, 1, 3, dtype=torch.bool)
    with pytest.raises(NotImplementedError, match="\"linspace_cpu\" not implemented for 'Bool'"):
        mg.linspace(0, 1, 3, dtype=mg.bool, device=device)
    with pytest.raises(TypeError):
        torch.linspace(0, 1, 2.5)
    with pytest.raises(TypeError, match="argument 'steps' must be int, not float"):
        mg.linspace(0, 1, 2.5, device=device)
    same_as_torch(mg.linspace(mg.tensor(0.0), mg.tensor(1.0), 3, device=device),
                  torch.linspace(torch.tensor(0.0), torch.tensor(1.0), 3))


@pytest.mark.parametrize("args,kwargs", [((3,), {}), ((2, 3), {}), ((3, 2), {}), ((0,), {}),
                                         ((2,), {"dtype": "int64"}), ((2,), {"dtype": "float64"})])
def test_eye_matches_torch(args, kwargs, device):
    torch = torch_or_skip()
    torch_kwargs = {k: getattr(torch, v) for k, v in kwargs.items()}
    same_as_torch(mg.eye(*args, **kwargs, device=device), torch.eye(*args, **torch_kwargs))


def test_eye_negative_size_raises():
    with pytest.raises(RuntimeError):
        mg.eye(-1)


# ---------------------------------------------------------------------- empty tensors
def test_empty_tensors_work_through_ops(device):
    x = mg.zeros(0, 3, requires_grad=True, device=device)
    y = (x * 2.0 + 1.0).reshape(3, 0).t()
    assert tuple(y.shape) == (0, 3) and y.numel() == 0
    y.backward(mg.zeros(0, 3, device=device))
    assert tuple(x.grad.shape) == (0, 3)
    assert mg.tensor([], device=device).tolist() == [] and len(mg.zeros(0, 2, device=device)) == 0


def test_default_dtype_controls_python_floats():
    previous = mg.get_default_dtype()
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.tensor([1.0]).dtype == mg.float64 and mg.zeros(2).dtype == mg.float64
        assert mg.arange(0, 1, 0.5).dtype == mg.float64
        with pytest.raises(TypeError):
            mg.set_default_dtype(mg.int64)
    finally:
        mg.set_default_dtype(previous)
    assert mg.tensor([1.0]).dtype == mg.float32


@pytest.mark.xfail(strict=True, reason="dtype inference looks at the outer object only: a list of "
                                       "numpy float64 scalars becomes float32 (torch: float64)")
def test_list_of_numpy_float64_scalars_stays_float64():
    assert mg.tensor([np.float64(1.0), np.float64(2.0)]).dtype == mg.float64


def test_rng_state_round_trip_through_save_and_load(tmp_path):
    mg.manual_seed(7)
    state = mg.get_rng_state()
    first = mg.randn(5).tolist()
    mg.save({"rng": state}, tmp_path / "rng.npz")
    mg.randn(3)
    mg.set_rng_state(mg.load(tmp_path / "rng.npz")["rng"])
    assert mg.randn(5).tolist() == first
    with pytest.raises(TypeError, match="uint8"):
        mg.set_rng_state(mg.zeros(3))


def test_randint_requires_grad_argument(device):
    """``torch.randint(..., requires_grad=False)`` is accepted (tinygrad's gather/scatter tests
    pass it); a float dtype may require grad, an integer one raises as in PyTorch."""
    torch = torch_or_skip()
    ours = mg.randint(0, 3, size=(2, 4), requires_grad=False, device=device)
    same_as_torch(ours, torch.randint(0, 3, size=(2, 4), requires_grad=False), values=False)
    assert not ours.requires_grad
    floats = mg.randint(3, (2,), dtype=mg.float32, requires_grad=True, device=device)
    assert floats.requires_grad and floats.is_leaf and floats.dtype == mg.float32
    with pytest.raises(RuntimeError):
        torch.randint(3, (2,), requires_grad=True)
    with pytest.raises(RuntimeError):
        mg.randint(3, (2,), requires_grad=True, device=device)


def test_randint_high_and_size_by_keyword(device):
    """``torch.randint(high=1, size=...)`` (low defaults to 0), as tinygrad's tests call it."""
    torch = torch_or_skip()
    ours = mg.randint(high=4, size=(50,), device=device)
    same_as_torch(ours, torch.randint(high=4, size=(50,)), values=False)
    values = ours.cpu().numpy()
    assert values.min() >= 0 and values.max() < 4
    assert (mg.randint(low=2, high=3, size=(5,), device=device).cpu().numpy() == 2).all()
    with pytest.raises(TypeError):
        torch.randint(size=(3,))
    with pytest.raises(TypeError):
        mg.randint(size=(3,))
