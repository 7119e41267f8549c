"""Stacking family (minigrad/ops/stacking.py): hstack/vstack/row_stack/dstack/column_stack,
atleast_*d, tensor_split/hsplit/vsplit/dsplit, block_diag, cartesian_prod, combinations,
rot90, diagflat, take, broadcast_shapes — values, dtypes and float64 gradients against
PyTorch, gradcheck, and PyTorch's error classes."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.oracle import compare_with_torch

try:
    import torch
except ImportError:          # the oracle is optional: skip the module, never fail collection
    pytest.skip("torch (the oracle) is not installed", allow_module_level=True)



def compare(mg_fn, torch_fn, arrays, *, device, grad=True, seed=0):
    """The shared oracle (tests/oracle.py): values, shapes, dtypes and, with ``grad``, the
    VJP of every float input for a random upstream gradient, against PyTorch."""
    compare_with_torch(mg_fn, torch_fn, arrays, device, seed=seed, check_grad=grad)


def r(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


SHAPE_SETS = [[(3,), (2,)], [(2, 3), (2, 1)], [(), (1,)], [(2, 3, 2), (2, 1, 2)]]


@pytest.mark.parametrize("name", ["hstack", "column_stack"])
@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2, 3), (2, 1)], [(2, 3, 2), (2, 1, 2)]])
def test_hstack_column_stack(name, shapes, device):
    if name == "column_stack" and shapes[0] == (3,):
        shapes = [(3,), (3,)]
    arrays = [r(*s, seed=i) for i, s in enumerate(shapes)]
    compare(lambda *t: getattr(mg, name)(list(t)), lambda *t: getattr(torch, name)(list(t)),
            arrays, device=device)


@pytest.mark.parametrize("name", ["vstack", "row_stack", "dstack"])
@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (1, 3)], [(), ()], [(2, 3, 2), (2, 3, 1)]])
def test_vstack_dstack(name, shapes, device):
    if name != "dstack" and len(shapes[0]) == 3:
        shapes = [(2, 3, 2), (1, 3, 2)]
    if name == "dstack" and shapes[0] == (2, 3):
        shapes = [(2, 3), (2, 3)]
    arrays = [r(*s, seed=i) for i, s in enumerate(shapes)]
    compare(lambda *t: getattr(mg, name)(t), lambda *t: getattr(torch, name)(t), arrays,
            device=device)


@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 3), (1, 2, 1, 2)])
def test_atleast(name, shape, device):
    compare(getattr(mg, name), getattr(torch, name), [r(*shape)], device=device)
    two = [r(*shape), r(2)]
    compare(lambda a, b: getattr(mg, name)(a, b), lambda a, b: getattr(torch, name)(a, b), two,
            device=device)
    compare(lambda a, b: getattr(mg, name)([a, b]), lambda a, b: getattr(torch, name)([a, b]),
            two, device=device)


@pytest.mark.parametrize("spec", [1, 2, 3, 4, 7, [1], [2, 4], [0, 0, 5], [4, 2], [-2], (1, 9)])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_tensor_split(spec, dim, device):
    x = r(5, 5)
    compare(lambda t: mg.tensor_split(t, spec, dim), lambda t: torch.tensor_split(t, spec, dim),
            [x], device=device)
    compare(lambda t: t.tensor_split(spec, dim=dim), lambda t: t.tensor_split(spec, dim=dim),
            [x], device=device)


def test_tensor_split_tensor_spec_and_errors(device):
    x = r(6, 2)
    compare(lambda t: mg.tensor_split(t, mg.tensor([1, 4])),
            lambda t: torch.tensor_split(t, torch.tensor([1, 4])), [x], device=device)
    with pytest.raises(RuntimeError):
        mg.tensor_split(mg.tensor(x), 0)
    with pytest.raises(RuntimeError):
        torch.tensor_split(torch.tensor(x), 0)
    with pytest.raises(RuntimeError):
        mg.tensor_split(mg.tensor(1.0), 2)


@pytest.mark.parametrize("name,shape", [("hsplit", (6,)), ("hsplit", (2, 6)), ("vsplit", (6, 2)),
                                        ("dsplit", (2, 2, 6))])
@pytest.mark.parametrize("spec", [2, 3, [1, 4]])
def test_hsplit_vsplit_dsplit(name, shape, spec, device):
    compare(lambda t: getattr(mg, name)(t, spec), lambda t: getattr(torch, name)(t, spec),
            [r(*shape)], device=device)
    compare(lambda t: getattr(t, name)(spec), lambda t: getattr(t, name)(spec), [r(*shape)],
            device=device)


@pytest.mark.parametrize("name,shape", [("hsplit", (2, 5)), ("vsplit", (5, 2)), ("vsplit", (5,)),
                                        ("dsplit", (2, 2)), ("hsplit", ())])
def test_split_errors(name, shape):
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            getattr(lib, name)(lib.tensor(np.zeros(shape)), 2)


def test_block_diag(device):
    arrays = [r(2, 3), r(2, seed=1), r(seed=2), r(1, 1, seed=3), r(0, 2, seed=4)]
    compare(mg.block_diag, torch.block_diag, arrays, device=device)
    out = mg.block_diag(mg.tensor([[1, 2]], dtype=mg.int32), mg.tensor([1.5], dtype=mg.float32))
    assert out.dtype == mg.float32
    with pytest.raises(RuntimeError):
        mg.block_diag(mg.zeros(1, 1, 1))
    with pytest.raises(RuntimeError):
        torch.block_diag(torch.zeros(1, 1, 1))


def test_cartesian_prod_and_combinations(device):
    compare(mg.cartesian_prod, torch.cartesian_prod, [r(3), r(2, seed=1), r(2, seed=2)],
            device=device)
    compare(mg.cartesian_prod, torch.cartesian_prod, [r(3)], device=device)
    for rr in (1, 2, 3, 4):
        for rep in (False, True):
            compare(lambda t: mg.combinations(t, rr, rep),
                    lambda t: torch.combinations(t, rr, rep), [r(3)], device=device)
    compare(lambda t: mg.combinations(t, 0), lambda t: torch.combinations(t, 0), [r(3)],
            device=device, grad=False)
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.cartesian_prod(lib.zeros(2, 2))
        with pytest.raises(RuntimeError):
            lib.combinations(lib.zeros(2, 2))


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (-1, 0), (0, 2)])
def test_rot90(k, dims, device):
    compare(lambda t: mg.rot90(t, k, dims), lambda t: torch.rot90(t, k, dims), [r(2, 3, 4)],
            device=device)
    compare(lambda t: t.rot90(k, dims), lambda t: t.rot90(k, dims), [r(2, 3, 4)], device=device)


def test_rot90_errors():
    for lib in (mg, torch):
        for args in [((0, 0),), ((0, 1, 2),)]:
            with pytest.raises(RuntimeError):
                lib.rot90(lib.zeros(2, 2, 2), 1, *args)
        with pytest.raises(RuntimeError):
            lib.rot90(lib.zeros(3), 1, (0, 1))
        with pytest.raises(IndexError):
            lib.rot90(lib.zeros(3, 3), 1, (0, 5))


@pytest.mark.parametrize("shape", [(3,), (2, 2), ()])
@pytest.mark.parametrize("offset", [0, 1, -2])
def test_diagflat(shape, offset, device):
    compare(lambda t: mg.diagflat(t, offset), lambda t: torch.diagflat(t, offset), [r(*shape)],
            device=device)
    compare(lambda t: t.diagflat(offset), lambda t: t.diagflat(offset), [r(*shape)], device=device)


def test_take(device):
    index = np.array([[0, 5, -1], [3, 3, -6]])
    compare(lambda t: mg.take(t, mg.tensor(index, device=device)),
            lambda t: torch.take(t, torch.tensor(index)), [r(2, 3)], device=device)
    compare(lambda t: t.take(mg.tensor(index, device=device)),
            lambda t: t.take(torch.tensor(index)), [r(2, 3)], device=device)
    compare(lambda t: mg.take(t, mg.tensor(2, device=device)),
            lambda t: torch.take(t, torch.tensor(2)), [r(2, 3)], device=device)
    for lib in (mg, torch):
        with pytest.raises(IndexError):
            lib.take(lib.zeros(2, 3), lib.tensor([6]))
        with pytest.raises(RuntimeError):
            lib.take(lib.zeros(2, 3), lib.tensor([1.0]))


def test_broadcast_shapes():
    for shapes in [((2, 1), (3,)), ((1,), (4, 1, 1), 5), ((),), (2, 2)]:
        out = mg.broadcast_shapes(*shapes)
        assert out == torch.broadcast_shapes(*shapes)
        assert isinstance(out, mg.Size)
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.broadcast_shapes((2,), (3,))


def test_gradcheck_compositions(device):
    a = mg.tensor(r(3, 4), requires_grad=True, device=device)
    b = mg.tensor(r(3, 2, seed=1), requires_grad=True, device=device)
    assert gradcheck(lambda x, y: mg.hstack([x, y]), (a, b))
    assert gradgradcheck(lambda x: mg.rot90(x, 1) * mg.rot90(x, 1), (mg.tensor(r(3, 3), requires_grad=True, device=device),))
    assert gradcheck(lambda x: mg.tensor_split(x, 3, 1)[1], (a,))
    assert gradcheck(lambda x, y: mg.block_diag(x, y), (a, b))


def test_errors_on_non_sequence():
    for lib in (mg, torch):
        with pytest.raises(TypeError):
            lib.hstack(lib.zeros(2))
