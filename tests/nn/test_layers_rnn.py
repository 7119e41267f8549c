"""RNN, LSTM, GRU and their cells against torch.nn: state_dict keys and shapes (``_l{k}``,
``_reverse``, ``weight_hr``), reprs, torch's weights loaded as numpy arrays giving equal
outputs, final states and gradients (input, initial states, every parameter) in float64
for 1–2 layers, bidirectional, batch_first, given initial states and unbatched input;
BPTT written out by hand equals autograd (h_t = σ(W_h h_{t−1} + W_x x_t + b));
default init; gradcheck of a small LSTM; dropout between layers; errors."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn as nn
from minigrad.autograd.gradcheck import gradcheck
from tests.nn.parity import assert_same_state_layout, leaf
from tests.nn.parity_nested import compare_nested

def _pair(torch, name, *args, device, **kwargs):
    """Ours on ``device``, torch's (the oracle) on the CPU."""
    return getattr(nn, name)(*args, **kwargs).to(device), getattr(torch.nn, name)(*args, **kwargs)


def _states(rng, name, shape, cell_shape=None, *, device):
    h = leaf(rng.standard_normal(shape), device=device)
    if name in ("LSTM", "LSTMCell"):
        return (h, leaf(rng.standard_normal(cell_shape or shape), device=device))
    return h


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True},
                                    {"bias": False, "batch_first": True}, {"num_layers": 2}])
def test_state_layout_and_repr_match_torch(name, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, name, 3, 4, **kwargs, device=device)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    assert [[tuple(p.shape) for p in ps] for ps in ours.all_weights] == \
        [[tuple(p.shape) for p in ps] for ps in theirs.all_weights]


def test_lstm_projection_layout_and_repr_match_torch(device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, "LSTM", 3, 4, num_layers=2, bidirectional=True, proj_size=2,
                         device=device)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_layers_match_torch(name, num_layers, bidirectional, batch_first, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours, theirs = _pair(torch, name, 3, 4, num_layers=num_layers, bidirectional=bidirectional,
                         batch_first=batch_first, device=device)
    x = leaf(rng.standard_normal((2, 5, 3) if batch_first else (5, 2, 3)), device=device)
    output, state = compare_nested(torch, ours, theirs, x)
    directions = 2 if bidirectional else 1
    assert tuple(output.shape) == ((2, 5, 4 * directions) if batch_first else (5, 2, 4 * directions))
    h_n = state[0] if name == "LSTM" else state
    assert tuple(h_n.shape) == (num_layers * directions, 2, 4)
    # The top layer's last output is its final state (forward direction).
    last = output.detach().cpu().numpy()[:, -1] if batch_first else output.detach().cpu().numpy()[-1]
    np.testing.assert_allclose(last[:, :4], h_n.detach().cpu().numpy()[-directions])


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batched", [True, False])
def test_initial_states_match_torch(name, batched, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    # batch_first applies to batched input only (and changes nothing for the states).
    ours, theirs = _pair(torch, name, 3, 4, num_layers=2, bidirectional=True,
                         batch_first=not batched, device=device)
    x = leaf(rng.standard_normal((5, 2, 3) if batched else (5, 3)), device=device)
    hx = _states(rng, name, (4, 2, 4) if batched else (4, 4), device=device)
    output, _ = compare_nested(torch, ours, theirs, x, hx)
    assert tuple(output.shape) == ((5, 2, 8) if batched else (5, 8))


def test_relu_rnn_and_lstm_projection_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = leaf(rng.standard_normal((4, 2, 3)), device=device)
    compare_nested(torch, *_pair(torch, "RNN", 3, 4, 2, "relu", device=device), x)
    ours, theirs = _pair(torch, "LSTM", 3, 4, num_layers=2, bidirectional=True, proj_size=2,
                         device=device)
    x.grad = None
    hx = _states(rng, "LSTM", (4, 2, 2), (4, 2, 4), device=device)
    output, (h_n, c_n) = compare_nested(torch, ours, theirs, x, hx)
    assert tuple(output.shape) == (4, 2, 4) and tuple(h_n.shape) == (4, 2, 2)
    assert tuple(c_n.shape) == (4, 2, 4)
    ours, theirs = _pair(torch, "LSTM", 3, 4, bias=False, proj_size=3, batch_first=True,
                         device=device)
    compare_nested(torch, ours, theirs, leaf(rng.standard_normal((2, 4, 3)), device=device))


@given(st.sampled_from(["RNN", "LSTM", "GRU"]), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 2), st.booleans(), st.integers(0, 2 ** 16))
def test_random_shapes_match_torch(device, name, length, batch, num_layers, bidirectional, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    ours, theirs = _pair(torch, name, 2, 3, num_layers=num_layers, bidirectional=bidirectional,
                         device=device)
    compare_nested(torch, ours,
                   theirs, leaf(rng.standard_normal((length, batch, 2)), device=device))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(name, batched, with_state, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    ours, theirs = _pair(torch, name, 3, 4, device=device)
    assert_same_state_layout(ours, theirs)
    assert repr(ours) == repr(theirs)
    x = leaf(rng.standard_normal((2, 3) if batched else (3,)), device=device)
    hx = _states(rng, name, (2, 4) if batched else (4,), device=device) if with_state else None
    compare_nested(torch, ours, theirs, x, hx)


def test_cell_variants_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for ours, theirs in (_pair(torch, "RNNCell", 3, 4, nonlinearity="relu", device=device),
                         _pair(torch, "GRUCell", 3, 4, bias=False, device=device),
                         _pair(torch, "LSTMCell", 3, 4, bias=False, device=device)):
        assert repr(ours) == repr(theirs)
        compare_nested(torch, ours, theirs, leaf(rng.standard_normal((2, 3)), device=device))


def test_bptt_by_hand_equals_autograd(device):
    """The RNN h_t = tanh(W_h h_{t−1} + W_x x_t + b), J = Σ_t ⟨g_t, h_t⟩; the
    module docstring's BPTT recursion gives the same gradients as autograd."""
    rng = np.random.default_rng(5)
    layer = nn.RNN(3, 4).to(device).double()
    x = rng.standard_normal((6, 1, 3))
    g = rng.standard_normal((6, 1, 4))
    output, _ = layer(leaf(x, requires_grad=False, device=device))
    (output * mg.tensor(g, device=device)).sum().backward()
    w_x, w_h = layer.weight_ih_l0.detach().cpu().numpy(), layer.weight_hh_l0.detach().cpu().numpy()
    h = output.detach().cpu().numpy()[:, 0]
    h_prev = np.vstack([np.zeros((1, 4)), h[:-1]])
    d_wx, d_wh, d_b, carry = np.zeros_like(w_x), np.zeros_like(w_h), np.zeros(4), np.zeros(4)
    for t in reversed(range(6)):
        delta = (g[t, 0] + carry) * (1 - h[t] ** 2)          # δ_t = ∂J/∂h_t ⊙ tanh′
        d_wx += np.outer(delta, x[t, 0])
        d_wh += np.outer(delta, h_prev[t])
        d_b += delta
        carry = w_h.T @ delta                                # W_hᵀ δ_t flows to h_{t−1}
    np.testing.assert_allclose(layer.weight_ih_l0.grad.cpu().numpy(), d_wx, rtol=1e-12)
    np.testing.assert_allclose(layer.weight_hh_l0.grad.cpu().numpy(), d_wh, rtol=1e-12)
    np.testing.assert_allclose(layer.bias_ih_l0.grad.cpu().numpy(), d_b, rtol=1e-12)
    np.testing.assert_allclose(layer.bias_hh_l0.grad.cpu().numpy(), d_b, rtol=1e-12)


def test_gradcheck_small_lstm(device):
    mg.manual_seed(0)
    layer = nn.LSTM(2, 3, bidirectional=True).to(device).double()
    rng = np.random.default_rng(6)
    x, h0, c0 = leaf(rng.standard_normal((3, 1, 2)), device=device), leaf(rng.standard_normal((2, 1, 3)), device=device), \
        leaf(rng.standard_normal((2, 1, 3)), device=device)

    def run(x, h0, c0, w_ih, w_hh, b_hh):
        output, (h_n, c_n) = layer(x, (h0, c0))
        return output, h_n, c_n
    assert gradcheck(run, (x, h0, c0, layer.weight_ih_l0, layer.weight_hh_l0_reverse,
                           layer.bias_hh_l0))
    gru = nn.GRUCell(2, 3).to(device).double()
    assert gradcheck(lambda x, h: gru(x, h), (x[0], h0[0]))


def test_default_initialisation_is_uniform_on_inverse_sqrt_hidden():
    mg.manual_seed(0)
    layer = nn.LSTM(8, 100, num_layers=2, bidirectional=True)
    bound = 1 / math.sqrt(100)
    values = np.concatenate([p.detach().numpy().ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert tuple(layer.weight_ih_l1.shape) == (400, 200) and layer.weight_ih_l0.dtype == mg.float32


def test_dropout_between_layers_only_in_training(device):
    mg.manual_seed(0)
    layer = nn.GRU(3, 4, num_layers=2, dropout=0.5).to(device).double()
    x = leaf(np.random.default_rng(7).standard_normal((5, 2, 3)), requires_grad=False,
             device=device)
    with mg.no_grad():
        first, second = layer(x)[0].cpu().numpy(), layer(x)[0].cpu().numpy()
        assert not np.allclose(first, second)
        layer.eval()
        np.testing.assert_array_equal(layer(x)[0].cpu().numpy(), layer(x)[0].cpu().numpy())
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.RNN(3, 4, dropout=0.2).to(device)


def test_errors_name_shapes(device):
    lstm, gru = nn.LSTM(3, 4, num_layers=2).to(device), nn.GRU(3, 4).to(device)
    x = mg.randn(5, 2, 3, device=device)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 2, 4\), got \[2, 3, 4\]"):
        lstm(x, (mg.randn(2, 3, 4, device=device), mg.randn(2, 2, 4, device=device)))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(2, 2, 4\), got \[2, 2, 3\]"):
        lstm(x, (mg.randn(2, 2, 4, device=device), mg.randn(2, 2, 3, device=device)))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got \[1, 2, 5\]"):
        gru(x, mg.randn(1, 2, 5, device=device))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 3, got 2"):
        gru(mg.randn(5, 2, 2, device=device))
    with pytest.raises(ValueError, match="GRU: Expected input to be 2D or 3D, got 4D instead"):
        gru(mg.randn(5, 2, 3, 1, device=device))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D but got "
                                           "2-D tensor"):
        gru(x, mg.randn(2, 4, device=device))
    with pytest.raises(RuntimeError, match=r"hx and cx should also be 2-D but got \(3-D, 3-D\)"):
        lstm(x[:, 0], (mg.randn(2, 1, 4, device=device), mg.randn(2, 1, 4, device=device)))
    with pytest.raises(ValueError, match=r"RNN input dtype \(float64\) does not match weight dtype"):
        gru(x.double())
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid").to(device)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2).to(device)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4).to(device)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5).to(device)
    cell = nn.LSTMCell(3, 4).to(device)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 2 expected 3"):
        cell(mg.randn(2, 2, device=device))
    with pytest.raises(RuntimeError, match="hidden1 has inconsistent hidden_size: got 3, expected 4"):
        cell(mg.randn(2, 3, device=device), (mg.randn(2, 4, device=device),
                                             mg.randn(2, 3, device=device)))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        cell(mg.randn(2, 3, device=device), (mg.randn(3, 4, device=device),
                                             mg.randn(3, 4, device=device)))
    with pytest.raises(ValueError, match="RNNCell: Expected input to be 1D or 2D, got 3D instead"):
        nn.RNNCell(3, 4).to(device)(x)
