"""One step of a recurrent network: the recurrences shared by the cells (``RNNCell``,
``LSTMCell``, ``GRUCell``) and the sequence layers in ``rnn.py``.

Every step takes the input's contribution to the gates, ``gx = x W_ihᵀ + b``, already
computed: a layer computes it for all timesteps in one matmul before its loop, so each
step is left with only the recurrent matmul h W_hhᵀ. Gate blocks are stacked along the
rows of W_ih (G, in) and W_hh (G, H) in PyTorch's order:

    RNN   (G = H)     h' = tanh(W_ih x + b_ih + W_hh h + b_hh)       (or relu)
    LSTM  (G = 4H)    i, f, g, o = σ, σ, tanh, σ of the four blocks of
                              W_ih x + b_ih + W_hh h + b_hh
                      c' = f ⊙ c + i ⊙ g,        h' = o ⊙ tanh(c')
                      (h' = (o ⊙ tanh(c')) W_hrᵀ with a projection, proj_size > 0)
    GRU   (G = 3H)    r = σ(W_ir x + b_ir + W_hr h + b_hr)
                      z = σ(W_iz x + b_iz + W_hz h + b_hz)
                      n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
                      h' = (1 − z) ⊙ n + z ⊙ h  = n + z ⊙ (h − n)

For RNN and LSTM both biases enter the gates as a sum, so b_ih + b_hh is folded into gx
(one (G,) add instead of one (N, G) add per step; each bias still gets the full gradient).
The GRU cannot fold b_hn, which is scaled by r, so its step keeps b_hh.

The cells are PyTorch's: parameters ``weight_ih`` (G, in), ``weight_hh`` (G, H),
``bias_ih``, ``bias_hh`` (G,), all initialised U(−1/√H, 1/√H); input (N, in) or (in,),
state (N, H) or (H,), zeros when not given.
"""
import math

from ... import creation
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def fold_bias(b_ih, b_hh):
    """b_ih + b_hh, or None without biases."""
    return None if b_ih is None else b_ih + b_hh


def rnn_step(gx, h, w_hh, nonlinearity):
    """h' = act(gx + h W_hhᵀ);  gx, h (N, H)."""
    pre = gx + h.matmul(w_hh.mT)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def lstm_step(gx, h, c, w_hh, w_hr=None):
    """(h', c') from gx (N, 4H), h (N, H or proj), c (N, H); see the module docstring."""
    i, f, g, o = (gx + h.matmul(w_hh.mT)).chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr is not None:
        h = h.matmul(w_hr.mT)
    return h, c


def gru_step(gx, h, w_hh, b_hh):
    """h' from gx = x W_ihᵀ + b_ih (N, 3H) and h (N, H); b_hh is not folded (docstring)."""
    r_x, z_x, n_x = gx.chunk(3, 1)
    r_h, z_h, n_h = F.linear(h, w_hh, b_hh).chunk(3, 1)
    r = (r_x + r_h).sigmoid()
    z = (z_x + z_h).sigmoid()
    n = (n_x + r * n_h).tanh()
    return n + z * (h - n)


def reset_uniform(module, hidden_size):
    """PyTorch's recurrent init: every parameter ~ U(−1/√H, 1/√H)."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


class RNNCellBase(Module):
    """Parameters and argument checks shared by the three cells (``num_chunks`` gate
    blocks of ``hidden_size`` rows each)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(creation.empty((gates, input_size), **factory))
        self.weight_hh = Parameter(creation.empty((gates, hidden_size), **factory))
        if bias:
            self.bias_ih = Parameter(creation.empty((gates,), **factory))
            self.bias_hh = Parameter(creation.empty((gates,), **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_uniform(self, self.hidden_size)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def _prepare(self, input, states, names):
        """Batch unbatched input and states, fill missing states with zeros, check sizes
        (PyTorch's messages); returns (input (N, in), states (N, H)…, is_batched)."""
        cell = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{cell}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        for name, state in zip(names, states):
            if state is not None and state.ndim not in (1, 2):
                raise ValueError(f"{cell}: Expected {name} to be 1D or 2D, got {state.ndim}D "
                                 f"instead")
        is_batched = input.ndim == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        batched = []
        for index, state in enumerate(states):
            if state is None:
                state = creation.zeros((input.shape[0], self.hidden_size), dtype=input.dtype,
                                       device=input.device)
            elif not is_batched:
                state = state.unsqueeze(0)
            if state.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match "
                                   f"hidden{index} batch size {state.shape[0]}")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{index} has inconsistent hidden_size: got "
                                   f"{state.shape[1]}, expected {self.hidden_size}")
            batched.append(state)
        return input, batched, is_batched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (``nonlinearity='relu'``: relu).
    input (N, in) or (in,), hx (N, H) or (H,) → h' of hx's shape."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        input, (hx,), is_batched = self._prepare(input, (hx,), ("hidden",))
        gx = F.linear(input, self.weight_ih, fold_bias(self.bias_ih, self.bias_hh))
        h = rnn_step(gx, hx, self.weight_hh, self.nonlinearity)
        return h if is_batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """(h', c') = LSTM step (module docstring) of input (N, in) or (in,) and
    hx = (h, c), each (N, H) or (H,); zeros when hx is None."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        states = (None, None) if hx is None else tuple(hx)
        input, (h, c), is_batched = self._prepare(input, states, ("hx[0]", "hx[1]"))
        gx = F.linear(input, self.weight_ih, fold_bias(self.bias_ih, self.bias_hh))
        h, c = lstm_step(gx, h, c, self.weight_hh)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """h' = GRU step (module docstring) of input (N, in) or (in,) and hx (N, H) or (H,)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        input, (hx,), is_batched = self._prepare(input, (hx,), ("hidden",))
        gx = F.linear(input, self.weight_ih, self.bias_ih)
        h = gru_step(gx, hx, self.weight_hh, self.bias_hh)
        return h if is_batched else h.squeeze(0)
