"""The Tensor's own API: attributes, conversions to Python and numpy, autograd flags,
dtype/device moves, copies, Python protocols (len, float, iteration, repr), and the mixing of
numpy arrays with tensors."""
import numpy as np
import pytest

import minigrad as mg


def matrix(requires_grad=False, device="cpu"):
    return mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=requires_grad, device=device)


def has_getitem():
    return hasattr(mg.Tensor, "__getitem__")


# ---------------------------------------------------------------------- attributes
def test_shape_ndim_dtype_device():
    x = matrix()
    assert x.shape == (2, 3) and isinstance(x.shape, mg.Size) and isinstance(x.shape, tuple)
    assert x.shape.numel() == 6 and repr(x.shape) == "minigrad.Size([2, 3])"
    assert x.ndim == 2 and x.dim() == 2
    assert x.dtype == mg.float32 and x.dtype is mg.float32
    assert x.device == "cpu" and x.device == mg.device("cpu") and x.device.type == "cpu"
    assert str(x.device) == "cpu" and not x.is_cuda


def test_size_and_numel(device):
    x = mg.zeros(2, 3, 4, device=device)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4 and x.size(dim=0) == 2
    assert x.numel() == 24 and mg.zeros(0, 3, device=device).numel() == 0 and mg.tensor(1.0, device=device).numel() == 1
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)
    assert mg.tensor(1.0, device=device).size() == ()


def test_autograd_attributes_of_leaves_and_results(device):
    x = matrix(requires_grad=True, device=device)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None and x.grad is None
    y = x * 2.0
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert "Mul" in y.grad_fn.name()
    z = matrix(device=device) * 2.0
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None
    with mg.no_grad():
        w = x * 2.0
    assert not w.requires_grad and w.is_leaf


def test_grad_is_filled_by_backward(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    (x * x).backward(mg.ones(2, device=device))
    assert isinstance(x.grad, mg.Tensor) and x.grad.tolist() == [2.0, 4.0]
    assert not x.grad.requires_grad


def test_requires_grad_rules():
    x = mg.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1]).requires_grad_()
    y = matrix(requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    x.requires_grad = True
    assert x.requires_grad


def test_retain_grad_keeps_a_non_leaf_gradient(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 3.0
    y.retain_grad()
    assert y.retains_grad
    (y * y).backward(mg.ones(2, device=device))
    assert y.grad.tolist() == [6.0, 12.0]
    z = x * 1.0
    (z * 2.0).backward(mg.ones(2, device=device))
    assert z.grad is None  # not retained
    with pytest.raises(RuntimeError):
        mg.ones(2, device=device).retain_grad()


def test_detach_shares_data_and_leaves_the_graph():
    x = matrix(requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    with mg.no_grad():
        d.add_(1.0)
    assert x.tolist()[0][0] == 2.0
    assert d._version == x._version == 1


# ---------------------------------------------------------------------- Python conversions
def test_item_and_tolist(device):
    assert mg.tensor([2.5], device=device).item() == 2.5 and isinstance(mg.tensor([2.5], device=device).item(), float)
    assert mg.tensor(3,
                     device=device).item() == 3 and isinstance(mg.tensor(3, device=device).item(), int)
    assert mg.tensor(True, device=device).item() is True
    assert mg.tensor([[1.5]], requires_grad=True, device=device).item() == 1.5
    assert matrix(device=device).tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert mg.tensor(2.5, device=device).tolist() == 2.5 and mg.tensor([1, 2],
                                                                       device=device).tolist() == [1, 2]
    assert matrix(requires_grad=True, device=device).tolist() == matrix(device=device).tolist()
    for bad in (mg.tensor([1.0, 2.0], device=device), mg.tensor([], device=device)):
        with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
            bad.item()


def test_float_int_bool_on_one_element_tensors(device):
    assert float(mg.tensor([[2.5]], device=device)) == 2.5
    assert int(mg.tensor([2.7], device=device)) == 2 and int(mg.tensor(-2.7, device=device)) == -2
    assert bool(mg.tensor([0.0],
                          device=device)) is False and bool(mg.tensor(3, device=device)) is True
    assert float(mg.tensor([2.0], requires_grad=True, device=device)) == 2.0


@pytest.mark.parametrize("convert", [float, int])
def test_float_int_on_many_elements_raise_value_error(convert):
    with pytest.raises(ValueError, match="only one element tensors"):
        convert(mg.tensor([1.0, 2.0]))


def test_bool_on_many_elements_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mg.tensor([1, 2]))
    with pytest.raises(RuntimeError):
        bool(mg.tensor([]))


def test_index_protocol():
    assert [10, 20, 30][mg.tensor(1)] == 20
    with pytest.raises(TypeError):
        [10, 20, 30][mg.tensor(1.0)]


def test_numpy_shares_memory_and_refuses_requires_grad():
    x = mg.zeros(3)
    array = x.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    array[0] = 4.0
    assert x.tolist() == [4.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="requires grad"):
        matrix(requires_grad=True).numpy()
    assert isinstance(matrix(requires_grad=True).detach().numpy(), np.ndarray)
    assert isinstance(mg.tensor(1.0).numpy(), np.ndarray)  # 0-d stays an array
    assert isinstance((mg.tensor(1.0) + 1.0).numpy(), np.ndarray)


def test_np_asarray_of_a_tensor():
    x = matrix()
    array = np.asarray(x)
    assert array.shape == (2, 3) and array.dtype == np.float32
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    # As PyTorch: a tensor that requires grad must be detached first.
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(matrix(requires_grad=True))
    assert np.asarray(matrix(requires_grad=True).detach()).shape == (2, 3)


def test_len_and_iteration_over_the_first_dim(device):
    x = matrix(device=device)
    assert len(x) == 2 and len(mg.zeros(0, 3, device=device)) == 0
    with pytest.raises(TypeError):
        len(mg.tensor(1.0, device=device))
    with pytest.raises(TypeError):
        iter(mg.tensor(1.0, device=device))
    if not has_getitem():
        pytest.skip("iteration needs __getitem__ (minigrad.ops.indexing)")
    rows = list(x)
    assert len(rows) == 2 and all(isinstance(r, mg.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == x.tolist()
    assert list(mg.zeros(0, 2, device=device)) == []


def test_iteration_keeps_the_graph(device):
    if not has_getitem():
        pytest.skip("iteration needs __getitem__ (minigrad.ops.indexing)")
    x = matrix(requires_grad=True, device=device)
    first, second = x
    (first * 2.0 + second).backward(mg.ones(3, device=device))
    assert x.grad.tolist() == [[2.0, 2.0, 2.0], [1.0, 1.0, 1.0]]


# ---------------------------------------------------------------------- dtype and device moves
@pytest.mark.parametrize("method,dtype", [("float", mg.float32), ("double", mg.float64),
                                          ("half", mg.float16), ("long", mg.int64),
                                          ("int", mg.int32), ("bool", mg.bool)])
def test_dtype_shortcuts(method, dtype, device):
    torch = pytest.importorskip("torch")
    values = [[0.0, 1.5, -2.5]]
    out = getattr(mg.tensor(values, device=device), method)()
    expected = getattr(torch.tensor(values), method)()
    assert out.dtype == dtype
    assert out.tolist() == expected.tolist()


def test_to_forms():
    x = matrix(requires_grad=True)
    assert x.to(mg.float32) is x and x.to("cpu") is x and x.to(mg.device("cpu")) is x
    assert x.to(mg.float64).dtype == mg.float64 and x.to(dtype=mg.float16).dtype == mg.float16
    assert x.to("cpu", mg.float64).dtype == mg.float64
    assert x.to(mg.ones(1, dtype=mg.int32)).dtype == mg.int32
    assert x.to(mg.float32, copy=True) is not x
    assert x.cpu() is x
    with pytest.raises(TypeError):
        x.to(mg.float64, bogus=True)


def test_float_casts_are_differentiable_and_integer_casts_end_the_graph(device):
    x = matrix(requires_grad=True, device=device)
    y = x.double()
    assert y.requires_grad and y.grad_fn is not None
    (y * y).backward(mg.ones(2, 3, dtype=mg.float64, device=device))
    assert x.grad.dtype == mg.float32
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * x.detach().cpu().numpy())
    assert not x.long().requires_grad and not x.bool().requires_grad


def test_type_as(device):
    assert mg.tensor([1, 2],
                     device=device).type_as(mg.ones(1, dtype=mg.float64, device=device)).dtype == mg.float64
    assert mg.tensor([1.5], device=device).type_as(mg.tensor([1], device=device)).tolist() == [1]


def test_cuda_without_a_gpu_raises_a_clear_runtime_error():
    if mg.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="CUDA"):
        matrix().cuda()
    with pytest.raises(RuntimeError, match="CUDA"):
        matrix().to("cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        mg.zeros(2, device="cuda")
    assert mg.cuda.device_count() == 0


def test_device_objects():
    assert mg.device("cpu") == "cpu" and mg.device("cpu") != "cuda"
    assert mg.device("cuda:1").index == 1 and mg.device("cuda:1") != "cuda:0"
    assert mg.device("cpu") == mg.device("cpu") and len({mg.device("cpu"), mg.device("cpu")}) == 1
    assert repr(mg.device("cuda:1")) == "device(type='cuda', index=1)"
    with pytest.raises(RuntimeError):
        mg.device("tpu")


# ---------------------------------------------------------------------- copies
def test_clone_copies_and_is_differentiable(device):
    x = matrix(requires_grad=True, device=device)
    c = x.clone()
    assert c.grad_fn is not None and c.tolist() == x.tolist()
    with mg.no_grad():
        c.add_(1.0)
    assert x.tolist()[0][0] == 1.0
    (c * 2.0).backward(mg.ones(2, 3, device=device))
    assert x.grad.tolist() == [[2.0] * 3] * 2


def test_contiguous(device):
    x = matrix(device=device)
    assert x.contiguous() is x and x.is_contiguous()
    t = x.t()
    assert not t.is_contiguous() and t.stride() == (1, 3)
    c = t.contiguous()
    assert c.is_contiguous() and c.tolist() == t.tolist() and c.stride() == (2, 1)


# ---------------------------------------------------------------------- numpy interop and repr
def test_numpy_array_with_tensor_gives_a_tensor():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out in (np.ones(3, dtype=np.float32) + x, np.ones(3, dtype=np.float32) * x,
                x + np.ones(3, dtype=np.float32), np.float64(2.0) * x, np.float32(1.0) - x):
        assert isinstance(out, mg.Tensor) and out.dtype == mg.float32 and out.requires_grad
    assert (np.ones(3) + x).dtype == mg.float64  # an array counts as a tensor of its dtype
    assert (np.ones(3, dtype=np.int64) + x).dtype == mg.float32
    mask = np.array([1.0, 5.0, 0.0]) > x
    assert isinstance(mask, mg.Tensor) and mask.tolist() == [False, True, False]


def test_repr():
    assert repr(mg.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mg.tensor(1.5)) == "tensor(1.5000)"
    assert repr(mg.tensor([1, 2], dtype=mg.int32)) == "tensor([1, 2], dtype=minigrad.int32)"
    assert repr(mg.tensor([1.5], dtype=mg.float64)) == "tensor([1.5000], dtype=minigrad.float64)"
    assert repr(mg.tensor([1.5], requires_grad=True)) == "tensor([1.5000], requires_grad=True)"
    assert repr(mg.tensor([1.0], requires_grad=True) * 2.0).startswith("tensor([2.], grad_fn=<Mul")
    assert repr(mg.tensor([])) == "tensor([])"
    assert repr(mg.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(mg.zeros(0, dtype=mg.int64)) == "tensor([], dtype=minigrad.int64)"


def test_hash_is_identity():
    x, y = matrix(), matrix()
    assert len({x, y, x}) == 2
    assert {x: 1}[x] == 1


def test_misc_queries():
    x = matrix()
    assert x.element_size() == 4 and x.is_floating_point() and not mg.tensor([1]).is_floating_point()
    assert mg.is_tensor(x) and not mg.is_tensor(x.numpy())


# ---------------------------------------------------------------------- .data (PyTorch's)
def test_data_is_a_detached_tensor_sharing_storage(device):
    p = mg.nn.Parameter(mg.ones(3, device=device))
    d = p.data
    assert isinstance(d, mg.Tensor) and not isinstance(d, mg.nn.Parameter)
    assert not d.requires_grad and d.grad_fn is None
    d.add_(1.0)                                   # manual update through .data
    assert p.tolist() == [2.0, 2.0, 2.0]
    p.data.mul_(0.5)
    p.data.fill_(4.0)
    assert p.tolist() == [4.0, 4.0, 4.0] and p.requires_grad and p.is_leaf


def test_data_writes_are_invisible_to_the_version_check():
    # PyTorch: an in-place write through .data does not invalidate saved tensors.
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.data.mul_(2.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_data_setter_replaces_the_values():
    w = mg.nn.Parameter(mg.zeros(2, 2))
    w.data = mg.ones(3)
    assert w.shape == (3,) and w.tolist() == [1.0, 1.0, 1.0] and w.requires_grad
    with pytest.raises(TypeError, match="must be a Tensor"):
        w.data = np.ones(3)
    with pytest.raises(RuntimeError, match="int64"):
        w.data = mg.tensor([1, 2])
