"""F.linear: PyTorch parity for any number of leading dims, bias or not, 1-D weights; the
corrected dense-layer gradients of docs/seeds.md#errata-001 (∂J/∂W = δ Aᵀ, ∂J/∂b = Σ δ) checked
against autograd; first and second derivatives; errors naming shapes."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.autograd.gradcheck import gradcheck, gradgradcheck
from tests.nn.parity import leaf, run_both


@given(st.lists(st.integers(0, 3), max_size=3), st.integers(1, 4), st.integers(1, 4),
       st.booleans(), st.integers(0, 2 ** 16))
def test_matches_torch(device, lead, n_in, n_out, with_bias, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x, w = (leaf(rng.standard_normal(tuple(lead) + (n_in,)), device=device),
            leaf(rng.standard_normal((n_out, n_in)), device=device))
    b = leaf(rng.standard_normal(n_out), device=device) if with_bias else None
    run_both(torch, F.linear, torch.nn.functional.linear, [x, w, b], seed)


def test_vector_weight_matches_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = (leaf(rng.standard_normal((2, 3, 4)), device=device),
            leaf(rng.standard_normal(4), device=device))
    run_both(torch, F.linear, torch.nn.functional.linear, [x, w])


def test_dense_layer_gradients_are_the_corrected_seed_formulas(device):
    """Printed: ∂J/∂W(l) = A(l−1) δ(l+1) (docs/seeds.md#errata-001); the correct VJP (column convention) is
    ∂J/∂W(l) = δ(l) A(l−1)ᵀ and ∂J/∂b(l) = Σ_batch δ(l); in row-major batches that is
    dW = δᵀ A, db = Σ_rows δ, and the propagated δ(l−1) = (W(l)ᵀ δ(l)) ⊙ σ′(Z(l−1))."""
    rng = np.random.default_rng(1)
    a0 = rng.standard_normal((5, 3))
    w1, b1 = (leaf(rng.standard_normal((4, 3)), device=device),
              leaf(rng.standard_normal(4), device=device))
    w2, b2 = (leaf(rng.standard_normal((2, 4)), device=device),
              leaf(rng.standard_normal(2), device=device))
    y = rng.standard_normal((5, 2))
    z1 = F.linear(mg.tensor(a0, device=device), w1, b1)
    a1 = F.sigmoid(z1)
    a2 = F.linear(a1, w2, b2)
    (0.5 * ((a2 - mg.tensor(y, device=device)) ** 2).sum()).backward()
    delta2 = a2.detach().cpu().numpy() - y                                  # ∂J/∂Z2
    s = a1.detach().cpu().numpy()
    delta1 = (delta2 @ w2.detach().cpu().numpy()) * s * (1 - s)            # (W2ᵀ δ2) ⊙ σ′(Z1)
    np.testing.assert_allclose(w2.grad.cpu().numpy(), delta2.T @ s, rtol=1e-12)
    np.testing.assert_allclose(b2.grad.cpu().numpy(), delta2.sum(0), rtol=1e-12)
    np.testing.assert_allclose(w1.grad.cpu().numpy(), delta1.T @ a0, rtol=1e-12)
    np.testing.assert_allclose(b1.grad.cpu().numpy(), delta1.sum(0), rtol=1e-12)


def test_gradcheck_and_gradgradcheck(device):
    rng = np.random.default_rng(2)
    x, w, b = (leaf(rng.standard_normal((2, 3)), device=device),
               leaf(rng.standard_normal((2, 3)), device=device),
               leaf(rng.standard_normal(2), device=device))
    assert gradcheck(F.linear, (x, w, b))
    assert gradgradcheck(F.linear, (x, w, b))


def test_float32_and_errors(device):
    assert F.linear(mg.randn(2, 3, device=device), mg.randn(4, 3, device=device),
                    mg.randn(4, device=device)).dtype == mg.float32
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        F.linear(mg.randn(2, 3, device=device), mg.randn(5, 4, device=device))
    with pytest.raises(RuntimeError, match=r"bias of size \[3\] does not match weight of size \[4, 3\]"):
        F.linear(mg.randn(2, 3, device=device), mg.randn(4, 3, device=device),
                 mg.randn(3, device=device))
    with pytest.raises(RuntimeError, match=r"weight of size \[2, 3, 4\]"):
        F.linear(mg.randn(2, 4, device=device), mg.randn(2, 3, 4, device=device))


@pytest.mark.parametrize("lead, with_bias", [((5,), True), ((5,), False), ((2, 3), True)])
def test_fused_linear_node_equals_the_composite(device, lead, with_bias):
    """F.linear records one ``Linear`` node for a batch of rows; its values and first and
    second derivatives are those of matmul(x, Wᵀ) + b."""
    rng = np.random.default_rng(7)
    x = leaf(rng.standard_normal(lead + (4,)), device=device)
    w = leaf(rng.standard_normal((3, 4)), device=device)
    b = leaf(rng.standard_normal(3), device=device) if with_bias else None
    y = F.linear(x, w, b)
    node = y.grad_fn if len(lead) == 1 else y.grad_fn.next_functions[0][0]
    assert type(node).__name__ == "Linear"
    composite = mg.matmul(x, w.mT) + (b if with_bias else 0.0)
    np.testing.assert_allclose(y.detach().cpu().numpy(), composite.detach().cpu().numpy(),
                               rtol=1e-14)
    inputs = [t for t in (x, w, b) if t is not None]
    g = leaf(rng.standard_normal(lead + (3,)), requires_grad=False, device=device)
    ours = mg.autograd.grad(y, inputs, g)
    theirs = mg.autograd.grad(composite, inputs, g)
    for a, e in zip(ours, theirs):
        np.testing.assert_allclose(a.cpu().numpy(), e.cpu().numpy(), rtol=1e-13)
    fn = (lambda x, w, b: F.linear(x, w, b)) if with_bias else (lambda x, w: F.linear(x, w))
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)
