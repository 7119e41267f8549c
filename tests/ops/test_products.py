"""Products family (minigrad/ops/products.py): inner, mv, addmm/addmv/addbmm/baddbmm/addr,
kron, tensordot, cross/linalg.cross, chain_matmul/linalg.multi_dot, diff, cdist, dist,
float_power, fmax, fmin, logit, heaviside — values, dtypes and float64 gradients against
PyTorch, gradcheck, and PyTorch's error classes."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.devices import to_numpy
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
    return np.random.default_rng(seed + 7 * len(shape)).standard_normal(shape)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)), ((), (2, 3)),
                                   ((2, 1, 3), (2, 3))])
def test_inner(sa, sb, device):
    compare(mg.inner, torch.inner, [r(*sa), r(*sb, seed=1)], device=device)
    compare(lambda a, b: a.inner(b), lambda a, b: a.inner(b), [r(*sa), r(*sb, seed=1)],
            device=device)


def test_inner_mv_errors():
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.inner(lib.zeros(2, 3), lib.zeros(2))
        with pytest.raises(RuntimeError):
            lib.mv(lib.zeros(2, 3), lib.zeros(2))
        with pytest.raises(RuntimeError):
            lib.mv(lib.zeros(3), lib.zeros(3))


def test_mv(device):
    compare(mg.mv, torch.mv, [r(2, 3), r(3, seed=1)], device=device)
    compare(lambda a, b: a.mv(b), lambda a, b: a.mv(b), [r(2, 3), r(3, seed=1)], device=device)


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2.0), (0, 3)])
def test_add_products(beta, alpha, device):
    kw = dict(beta=beta, alpha=alpha)
    cases = [("addmm", [r(2, 4), r(2, 3, seed=1), r(3, 4, seed=2)]),
             ("addmm", [r(4), r(2, 3, seed=1), r(3, 4, seed=2)]),
             ("addmv", [r(2), r(2, 3, seed=1), r(3, seed=2)]),
             ("addbmm", [r(2, 4), r(5, 2, 3, seed=1), r(5, 3, 4, seed=2)]),
             ("baddbmm", [r(5, 2, 4), r(5, 2, 3, seed=1), r(5, 3, 4, seed=2)]),
             ("baddbmm", [r(2, 1), r(5, 2, 3, seed=1), r(5, 3, 4, seed=2)]),
             ("addr", [r(2, 3), r(2, seed=1), r(3, seed=2)])]
    for name, arrays in cases:
        compare(lambda *t: getattr(mg, name)(*t, **kw), lambda *t: getattr(torch, name)(*t, **kw),
                arrays, device=device)
        compare(lambda a, *t: getattr(a, name)(*t, **kw),
                lambda a, *t: getattr(a, name)(*t, **kw), arrays, device=device)


def test_beta_zero_ignores_nan(device):
    x = mg.full((2, 2), float("nan"), device=device)
    out = mg.addmm(x, mg.ones(2, 3, device=device), mg.ones(3, 2, device=device), beta=0)
    assert np.all(to_numpy(out) == 3)
    assert torch.all(torch.addmm(torch.full((2, 2), float("nan")), torch.ones(2, 3),
                                 torch.ones(3, 2), beta=0) == 3)


def test_add_products_errors():
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.addmm(lib.zeros(2, 2), lib.zeros(2), lib.zeros(2, 2))
        with pytest.raises(IndexError):  # PyTorch's own class here
            lib.addbmm(lib.zeros(2, 2), lib.zeros(2, 2), lib.zeros(2, 2))
        with pytest.raises(RuntimeError):
            lib.baddbmm(lib.zeros(2, 2), lib.zeros(2, 2, 2, 2), lib.zeros(2, 2, 2))
        with pytest.raises(RuntimeError):
            lib.addr(lib.zeros(2, 2), lib.zeros(2, 1), lib.zeros(2))


@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 1)), ((3,), (2, 2)), ((2, 1, 2), (3, 2)), ((), (2,))])
def test_kron(sa, sb, device):
    compare(mg.kron, torch.kron, [r(*sa), r(*sb, seed=1)], device=device)
    compare(lambda a, b: a.kron(b), lambda a, b: a.kron(b), [r(*sa), r(*sb, seed=1)],
            device=device)


@pytest.mark.parametrize("sa,sb,dims", [((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 2), 1),
                                        ((2, 3), (4,), 0), ((2, 3, 4), (4, 2, 3), ([1, 2], [2, 0])),
                                        ((2, 3), (3, 5), ([-1], [0])), ((2, 3), (2, 3), 2)])
def test_tensordot(sa, sb, dims, device):
    compare(lambda a, b: mg.tensordot(a, b, dims), lambda a, b: torch.tensordot(a, b, dims),
            [r(*sa), r(*sb, seed=1)], device=device)


def test_tensordot_errors():
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.tensordot(lib.zeros(2, 3), lib.zeros(2, 3), 1)
        with pytest.raises(RuntimeError):
            lib.tensordot(lib.zeros(2, 3), lib.zeros(2, 3), 3)
        with pytest.raises(RuntimeError):
            lib.tensordot(lib.zeros(2, 3), lib.zeros(2, 3), ([0, 1], [0]))


@pytest.mark.parametrize("sa,sb,dim", [((4, 3), (4, 3), 1), ((3, 2), (3, 2), 0), ((2, 3, 3), (1, 3, 3), -1),
                                       ((3, 3), (3, 3), None)])
def test_cross(sa, sb, dim, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda a, b: mg.cross(a, b, dim), lambda a, b: torch.cross(a, b, dim),
                [r(*sa), r(*sb, seed=1)], device=device)
        compare(lambda a, b: a.cross(b, dim), lambda a, b: a.cross(b, dim),
                [r(*sa), r(*sb, seed=1)], device=device)
    with pytest.warns(UserWarning):
        mg.cross(mg.zeros(3), mg.zeros(3))
    ld = -1 if dim is None else dim
    compare(lambda a, b: mg.linalg.cross(a, b, dim=ld), lambda a, b: torch.linalg.cross(a, b, dim=ld),
            [r(*sa), r(*sb, seed=1)], device=device)


def test_linalg_cross_broadcasts_and_errors(device):
    compare(mg.linalg.cross, torch.linalg.cross, [r(2, 3), r(1, 3, seed=1)], device=device)
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.linalg.cross(lib.zeros(2, 3), lib.zeros(3))
        with pytest.raises(RuntimeError):
            lib.linalg.cross(lib.zeros(3, 2), lib.zeros(3, 2))
        with pytest.raises(RuntimeError):
            lib.cross(lib.zeros(3, 2), lib.zeros(3, 2), dim=1)


def test_chain_matmul_and_multi_dot(device):
    mats = [r(2, 3), r(3, 4, seed=1), r(4, 2, seed=2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(mg.chain_matmul, torch.chain_matmul, mats, device=device)
        compare(mg.chain_matmul, torch.chain_matmul, mats[:1], device=device)
    for arrays in (mats, [r(3), r(3, 4, seed=1), r(4, seed=2)], [r(3), r(3, 2, seed=1)],
                   [r(2, 3), r(3, seed=1)]):
        compare(lambda *t: mg.linalg.multi_dot(t), lambda *t: torch.linalg.multi_dot(t),
                arrays, device=device)
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.linalg.multi_dot([lib.zeros(2, 2)])
        with pytest.raises(RuntimeError):
            lib.linalg.multi_dot([lib.zeros(2, 2), lib.zeros(2), lib.zeros(2, 2)])


@pytest.mark.parametrize("n", [0, 1, 2, 3])
@pytest.mark.parametrize("dim", [0, -1])
def test_diff(n, dim, device):
    compare(lambda t: mg.diff(t, n, dim), lambda t: torch.diff(t, n, dim), [r(4, 3)], device=device)
    compare(lambda t, p, a: mg.diff(t, n, dim, p, a), lambda t, p, a: torch.diff(t, n, dim, p, a),
            [r(4, 3), r(4, 3, seed=1)[:1] if dim == 0 else r(4, 1, seed=1), r(4, 3, seed=2)[:2] if dim == 0 else r(4, 2, seed=2)],
            device=device)
    compare(lambda t: t.diff(n, dim), lambda t: t.diff(n, dim), [r(4, 3)], device=device)


def test_diff_bool_int_and_errors(device):
    b = np.array([True, False, False, True])
    assert to_numpy(mg.diff(mg.tensor(b))).tolist() == torch.diff(torch.tensor(b)).tolist()
    i = np.array([1, 4, 9, 16])
    out = mg.diff(mg.tensor(i), 2)
    assert to_numpy(out).tolist() == torch.diff(torch.tensor(i), 2).tolist()
    assert out.dtype == mg.int64
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.diff(lib.tensor(1.0))
        with pytest.raises(RuntimeError):
            lib.diff(lib.zeros(3), -1)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("sa,sb", [((4, 3), (5, 3)), ((2, 4, 3), (2, 5, 3)), ((2, 4, 3), (5, 3))])
def test_cdist(p, sa, sb, device):
    compare(lambda a, b: mg.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p),
            [r(*sa), r(*sb, seed=1)], device=device)


def test_cdist_p0_and_errors(device):
    a, b = np.round(r(4, 3)), np.round(r(5, 3, seed=1))
    compare(lambda x, y: mg.cdist(x, y, 0.0), lambda x, y: torch.cdist(x, y, 0.0), [a, b],
            device=device, grad=False)
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.cdist(lib.zeros(2, 3), lib.zeros(2, 4))
        with pytest.raises(RuntimeError):
            lib.cdist(lib.zeros(3), lib.zeros(2, 3))
        with pytest.raises(RuntimeError):
            lib.cdist(lib.zeros(2, 3), lib.zeros(2, 3), -1.0)


@pytest.mark.parametrize("p", [2, 1, 3.5, float("inf"), 0])
def test_dist(p, device):
    compare(lambda a, b: mg.dist(a, b, p), lambda a, b: torch.dist(a, b, p),
            [r(2, 3), r(3, seed=1)], device=device, grad=p != 0)
    compare(lambda a, b: a.dist(b, p), lambda a, b: a.dist(b, p),
            [r(2, 3), r(3, seed=1)], device=device, grad=p != 0)


def test_float_power(device):
    base = np.abs(r(2, 3)) + 0.5
    compare(mg.float_power, torch.float_power, [base, r(2, 3, seed=1)], device=device)
    compare(lambda a: a.float_power(2), lambda a: a.float_power(2), [r(2, 3)], device=device)
    for x in (mg.tensor([1, 2, 3]), mg.tensor([1.0, 2.0], dtype=mg.float32)):
        out = mg.float_power(x, 2)
        ref = torch.float_power(torch.tensor(to_numpy(x)), 2)
        assert out.dtype == mg.float64 and np.allclose(to_numpy(out), ref.numpy())
    assert mg.float_power(2, mg.tensor([1, 2])).dtype == mg.float64


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin(name, device):
    a = np.array([1.0, np.nan, 3.0, np.nan, 2.0, -1.0])
    b = np.array([2.0, 1.0, np.nan, np.nan, 2.0, -3.0])
    compare(getattr(mg, name), getattr(torch, name), [a, b], device=device)
    compare(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), [a, b],
            device=device)
    compare(getattr(mg, name), getattr(torch, name), [r(2, 3), r(3, seed=1)], device=device)
    ia, ib = np.array([1, 5, 3]), np.array([2, 2, 3])
    compare(getattr(mg, name), getattr(torch, name), [ia, ib], device=device, grad=False)
    out = getattr(mg, name)(mg.tensor(ia, dtype=mg.int32), mg.tensor([1.5, 2.0, 9.0], dtype=mg.float32))
    assert out.dtype == mg.float32


@pytest.mark.parametrize("eps", [None, 0.1, 0.0])
def test_logit(eps, device):
    x = np.array([0.05, 0.3, 0.5, 0.95, 0.99, 0.2])
    compare(lambda t: mg.logit(t, eps), lambda t: torch.logit(t, eps), [x], device=device)
    compare(lambda t: t.logit(eps), lambda t: t.logit(eps), [x], device=device)
    out = mg.logit(mg.tensor([0, 1]))
    assert out.dtype == mg.float32
    assert to_numpy(out).tolist() == torch.logit(torch.tensor([0, 1])).tolist()


def test_heaviside(device):
    x = np.array([-1.5, 0.0, 2.0, 0.0])
    v = np.array([0.5, 0.25, 7.0, -1.0])
    compare(mg.heaviside, torch.heaviside, [x, v], device=device, grad=False)
    compare(lambda a, b: a.heaviside(b), lambda a, b: a.heaviside(b), [x, v], device=device,
            grad=False)
    ix = np.array([-2, 0, 3])
    compare(mg.heaviside, torch.heaviside, [ix, np.array([5])], device=device, grad=False)
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.heaviside(lib.tensor([1.0]), lib.tensor([1]))


def test_gradcheck_compositions(device):
    def leaf(*shape, seed=0):
        return mg.tensor(r(*shape, seed=seed), requires_grad=True, device=device)
    assert gradgradcheck(lambda a, b, c: mg.addmm(a, b, c, beta=0.5, alpha=2),
                         (leaf(2, 2), leaf(2, 3, seed=1), leaf(3, 2, seed=2)))
    assert gradcheck(lambda a, b: mg.tensordot(a, b, ([0, 2], [1, 0])),
                     (leaf(2, 3, 4), leaf(4, 2, seed=1)))
    assert gradgradcheck(lambda a, b: mg.linalg.cross(a, b), (leaf(2, 3), leaf(2, 3, seed=1)))
    assert gradcheck(lambda a, b: mg.cdist(a, b), (leaf(3, 2), leaf(4, 2, seed=1)))
    assert gradgradcheck(lambda a, b: mg.kron(a, b), (leaf(2, 2), leaf(2, 1, seed=1)))


def test_float32_stays_float32_and_cdist_zero_distance(device):
    f = lambda *s: mg.tensor(r(*s), dtype=mg.float32, device=device)
    outs = [mg.addmm(f(2, 2), f(2, 3), f(3, 2), beta=0.5, alpha=2), mg.inner(f(3), f(3)),
            mg.kron(f(2), f(2)), mg.tensordot(f(2, 3), f(3, 2), 1), mg.cdist(f(2, 3), f(4, 3)),
            mg.dist(f(3), f(3)), mg.linalg.cross(f(3), f(3)), mg.diff(f(4)),
            mg.fmax(f(2), f(2)), mg.logit(f(2), 0.1), mg.linalg.multi_dot([f(3), f(3, 2)])]
    assert all(o.dtype == mg.float32 for o in outs)
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        mg.chain_matmul(f(2, 2), f(2, 2))
    same = r(2, 3)
    compare(lambda a, b: mg.cdist(a, b), lambda a, b: torch.cdist(a, b),
            [same, np.concatenate([same, r(1, 3, seed=4)])], device=device)


def test_out_argument_is_refused():
    for call in (lambda o: mg.addmm(mg.zeros(2, 2), mg.zeros(2, 2), mg.zeros(2, 2), out=o),
                 lambda o: mg.kron(mg.zeros(2), mg.zeros(2), out=o),
                 lambda o: mg.hstack([mg.zeros(2)], out=o),
                 lambda o: mg.linalg.multi_dot([mg.zeros(2, 2), mg.zeros(2, 2)], out=o)):
        with pytest.raises(TypeError, match="out="):
            call(mg.zeros(2, 2))


def test_matmul_family_refuses_mixed_dtypes():
    f, d = "float32", "float64"
    cases = [("mv", [(2, 2), (2,)], [d, f]), ("addmm", [(2, 2)] * 3, [d, f, f]),
             ("addmv", [(2,), (2, 2), (2,)], [d, f, f]), ("addbmm", [(2, 2), (1, 2, 2), (1, 2, 2)], [f, f, d]),
             ("baddbmm", [(1, 2, 2)] * 3, [d, f, f]), ("tensordot", [(2, 2)] * 2, [f, d]),
             ("inner", [(2,), (2,)], [f, d]), ("cdist", [(2, 2)] * 2, [f, d])]
    for name, shapes, kinds in cases:
        for lib in (mg, torch):
            args = [lib.ones(*s, dtype=getattr(lib, k)) for s, k in zip(shapes, kinds)]
            with pytest.raises(RuntimeError):
                getattr(lib, name)(*args)
    for lib in (mg, torch):
        with pytest.raises(RuntimeError):
            lib.linalg.cross(lib.ones(3), lib.ones(3, dtype=lib.float64))
        with pytest.raises(RuntimeError):
            lib.linalg.multi_dot([lib.ones(2, 2), lib.ones(2, 2, dtype=lib.float64)])
        with pytest.raises(RuntimeError):
            lib.diff(lib.ones(3), prepend=lib.tensor(0.0))
    assert mg.addr(mg.ones(2, 2, dtype=mg.float64), mg.ones(2), mg.ones(2)).dtype == mg.float64
