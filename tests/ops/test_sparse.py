"""Sparse COO: sparse_coo_tensor, Tensor.to_sparse, coalesce/indices/values/to_dense, and
sparse @ dense (mm, matmul, @, minigrad.sparse.mm, dense @ sparse) against PyTorch in
float64, forward and gradients (dense operand and values), gradcheck, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.autograd import gradcheck

# PyTorch warns once that it does not check sparse invariants (minigrad always checks bounds)
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


def coo(rng, n, m, nnz):
    indices = np.stack([rng.integers(0, n, nnz), rng.integers(0, m, nnz)])
    return indices, rng.normal(size=nnz)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5), m=st.integers(1, 5), p=st.integers(1, 4), nnz=st.integers(0, 12),
       seed=st.integers(0, 10_000),
       form=st.sampled_from(["mm", "matmul", "@", "sparse.mm", "method"]))
def test_sparse_dense_product_matches_torch(n, m, p, nnz, seed, form):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    indices, values = coo(rng, n, m, nnz)            # duplicates likely: they add up
    dense = rng.normal(size=(m, p))
    results = []
    for lib in (mg, torch):
        v = lib.tensor(values, requires_grad=True)
        d = lib.tensor(dense, requires_grad=True)
        s = lib.sparse_coo_tensor(lib.tensor(indices), v, (n, m))
        out = {"mm": lambda: lib.mm(s, d), "matmul": lambda: lib.matmul(s, d),
               "@": lambda: s @ d, "sparse.mm": lambda: lib.sparse.mm(s, d),
               "method": lambda: s.mm(d)}[form]()
        weights = lib.tensor(np.arange(n * p, dtype=np.float64).reshape(n, p))
        (out * weights).sum().backward()
        results.append((out.detach().numpy(), d.grad.numpy(),
                        np.zeros(nnz) if v.grad is None else v.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_dense_sparse_product_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    indices, values = coo(rng, 3, 4, 6)
    dense = rng.normal(size=(2, 3))
    outs = []
    for lib in (mg, torch):
        d = lib.tensor(dense, requires_grad=True)
        s = lib.sparse_coo_tensor(lib.tensor(indices), lib.tensor(values), (3, 4))
        out = lib.mm(d, s)
        out.sum().backward()
        outs.append((out.detach().numpy(), d.grad.numpy()))
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_coalesce_indices_values_to_dense_match_torch():
    torch = pytest.importorskip("torch")
    indices = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]
    values = [3.0, 4.0, 5.0, 1.0, -2.0]
    logs = []
    for lib in (mg, torch):
        v = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        s = lib.sparse_coo_tensor(indices, v, (3, 3))
        log = [s.is_coalesced(), s._nnz(), s.sparse_dim(), s.dense_dim(), list(s.shape)]
        with pytest.raises(RuntimeError, match="Cannot get indices on an uncoalesced tensor"):
            s.indices()
        c = s.coalesce()
        log += [c.is_coalesced(), c.indices().tolist(), c.values().tolist()]
        dense = s.to_dense()
        log.append(dense.tolist())
        (dense * lib.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
        log.append(v.grad.tolist())
        log.append(list(lib.sparse_coo_tensor(indices, values).shape))    # inferred size
        logs.append(log)
    assert logs[0] == logs[1]


def test_to_sparse_matches_torch_and_is_differentiable():
    torch = pytest.importorskip("torch")
    array = np.array([[0.0, 2.0, 0.0], [3.0, 0.0, -1.0]])
    logs = []
    for lib in (mg, torch):
        x = lib.tensor(array, requires_grad=True)
        s = x.to_sparse()
        log = [s.is_coalesced(), s.indices().tolist(), s.values().tolist(), s.is_sparse]
        s1 = x.to_sparse(1)
        log += [s1.indices().tolist(), s1.values().tolist()]
        ones = lib.ones(3, 2, dtype=lib.float64)
        # PyTorch: mm/@ of a to_sparse() tensor gives x the dense gradient, sparse.mm,
        # to_dense and values the masked one
        for product in (lambda: s @ ones, lambda: lib.mm(s, ones),
                        lambda: lib.sparse.mm(s, ones), lambda: s.to_dense(),
                        lambda: s.values(), lambda: ones.t() @ x.to_sparse().t()):
            x.grad = None
            product().sum().backward()
            log.append(x.grad.tolist())
        logs.append(log)
    assert logs[0] == logs[1]
    assert repr(mg.sparse_coo) == "minigrad.sparse_coo"
    assert mg.tensor([[1.0]]).to_sparse().layout is mg.sparse_coo


def test_sparse_mm_gradcheck():
    rng = np.random.default_rng(1)
    indices, values = coo(rng, 4, 3, 7)

    def f(v, d):
        return mg.sparse.mm(mg.sparse_coo_tensor(indices, v, (4, 3)), d)
    v = mg.tensor(values, requires_grad=True)
    d = mg.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    assert gradcheck(f, (v, d))
    assert gradcheck(lambda v: mg.sparse_coo_tensor(indices, v, (4, 3)).coalesce().to_dense(), (v,))


def test_requires_grad_leaf_and_its_sparse_grad():
    s = mg.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2), requires_grad=True)
    assert s.requires_grad and s.is_leaf
    (s @ mg.tensor([[1.0], [10.0]])).sum().backward()
    assert s.grad.is_sparse and s.grad._values_().tolist() == [10.0, 1.0]


def test_errors():
    with pytest.raises(RuntimeError, match="size is inconsistent with indices: for dim 0"):
        mg.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (2,))
    with pytest.raises(RuntimeError, match="same nnz"):
        mg.sparse_coo_tensor([[0, 1]], [1.0], (2,))
    s = mg.sparse_coo_tensor([[0], [1]], [1.0], (2, 3))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        s @ mg.ones(2, 2)
    with pytest.raises(TypeError):           # dense ops refuse a sparse tensor loudly
        mg.exp(s)


def test_dense_plus_sparse_matches_torch():
    """GAT's adjacency: eye(V) + sparse int64 edges → dense float32; dense ± sparse is
    dense, sparse + dense raises, sparse + sparse is sparse."""
    torch = pytest.importorskip("torch")
    edges = np.array([[0, 1], [1, 2], [2, 0], [0, 1]], dtype=np.int32)
    logs = []
    for lib in (mg, torch):
        adj = lib.sparse_coo_tensor(edges.T, lib.ones(4), (3, 3), dtype=lib.int64)
        dense = lib.eye(3) + adj
        log = [str(adj.dtype).split(".")[-1], str(dense.dtype).split(".")[-1], dense.tolist()]
        v = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        s = lib.sparse_coo_tensor([[0, 1], [1, 1]], v, (2, 2))
        d = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
        out = lib.add(d, s, alpha=2) - s
        (out * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)).sum().backward()
        log += [out.tolist(), v.grad.tolist(), d.grad.tolist()]
        with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
            s + d
        both = s.coalesce() + s.coalesce()
        log += [both.is_coalesced(), both.to_dense().tolist()]
        logs.append(log)
    assert logs[0] == logs[1]
