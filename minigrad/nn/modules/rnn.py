"""Recurrent layers ``RNN``, ``LSTM``, ``GRU``: a cell (``rnn_cell.py``) unrolled over a
sequence, stacked ``num_layers`` deep, optionally in both directions.

The recurrence is the Elman RNN, h_t = σ(W_h h_{t−1} + W_x x_t + b_h), in PyTorch's
layout (W_x = ``weight_ih``, W_h = ``weight_hh``, b_h = ``bias_ih + bias_hh``, σ = tanh by
default); LSTM and GRU replace the one gate by the gated updates in ``rnn_cell.py``.

Backpropagation through time (BPTT). The forward pass builds the unrolled graph
x_1 → h_1 → h_2 → … → h_T, each h_t one more node depending on h_{t−1}; ``backward`` is
ordinary reverse-mode autograd over that graph, so nothing here is written by hand. For
the tanh RNN it computes, with a_t = W_h h_{t−1} + W_x x_t + b_h and δ_t = ∂J/∂a_t,

    ∂J/∂h_t = (dJ/dh_t from the output at t) + W_hᵀ δ_{t+1}      (δ_{T+1} = 0)
    δ_t     = ∂J/∂h_t ⊙ (1 − h_t²)                              (tanh′ = 1 − tanh²)
    ∂J/∂W_h = Σ_t δ_t h_{t−1}ᵀ,   ∂J/∂W_x = Σ_t δ_t x_tᵀ,   ∂J/∂b_h = Σ_t δ_t,

the gradient flowing back through every step (and shrinking or growing by W_hᵀ
diag(1 − h²) each time — the vanishing/exploding gradient the LSTM's additive cell path
c_t = f ⊙ c_{t−1} + … was designed against). Truncated BPTT is the caller's ``h.detach()``
between chunks of a sequence.

Speed: a layer's input term x W_ihᵀ (+ biases) is computed for all T steps in one
(T·N, in) × (in, G) matmul (``F.linear`` folds the batch into rows), leaving only h W_hhᵀ inside the Python loop.

Shapes (PyTorch's): input (L, N, H_in) (``batch_first``: (N, L, H_in); unbatched (L, H_in)),
h_0 (D·num_layers, N, H_out) (unbatched (D·num_layers, H_out)), D = 2 if bidirectional.
Output (L, N, D·H_out) — the last layer's h_t for every t, the two directions
concatenated — and h_n (D·num_layers, N, H_out) (LSTM: (h_n, c_n), c_n with H, not
proj_size). Parameters per layer k and direction (suffix ``_reverse`` for the backward
one): ``weight_ih_l{k}`` (G, in_k), ``weight_hh_l{k}`` (G, H_out), ``bias_ih_l{k}``,
``bias_hh_l{k}`` (G,), LSTM with proj_size: ``weight_hr_l{k}`` (proj_size, H); in_0 =
input_size, in_k = D·H_out; all U(−1/√H, 1/√H). Dropout (training only) is applied to
every layer's output but the last.

PackedSequence input (``nn.utils.rnn``): step t runs on the first batch_sizes[t] rows only
(sequences sorted longest first), so each sequence's h_n is its state after its own last
step; the reverse direction starts each sequence from h_0 at its own last step. hx and
h_n are in the caller's batch order (permuted by ``sorted_indices`` on the way in and by
``unsorted_indices`` on the way out); the output is a PackedSequence like the input.
"""
import numbers
import warnings

from ... import creation
from ...ops.joining import cat, stack
from .. import functional as F
from ..functional.linear import linear
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from ...ops.indexing import index_select
from .rnn_cell import fold_bias, gru_step, lstm_step, reset_uniform, rnn_step

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """Parameters, argument checks and the layer/direction loop of RNN, LSTM and GRU;
    ``mode`` is "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                                  ("input_size", input_size, int),
                                  ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                                f"{type(value).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size

        factory = {"device": device, "dtype": dtype}
        gates = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(self.num_directions):
                layer_input = input_size if layer == 0 else out_size * self.num_directions
                shapes = [("weight_ih", (gates, layer_input)), ("weight_hh", (gates, out_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for stem, shape in shapes:
                    name = f"{stem}_l{layer}{'_reverse' if direction else ''}"
                    setattr(self, name, Parameter(creation.empty(shape, **factory)))
                    names.append(name)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self):
        """The parameters, one list per (layer, direction), in registration order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def reset_parameters(self):
        reset_uniform(self, self.hidden_size)

    def flatten_parameters(self):
        """A no-op kept for PyTorch code that calls it (it packs weights for cuDNN there;
        minigrad's layers read their parameters directly)."""

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("proj_size", 0), ("num_layers", 1), ("bias", True),
                              ("batch_first", False), ("dropout", 0), ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text

    # ------------------------------------------------------------------ forward
    def _state_shapes(self, batch):
        layers = self.num_layers * self.num_directions
        h_shape = (layers, batch, self.proj_size or self.hidden_size)
        return (h_shape, (layers, batch, self.hidden_size)) if self.mode == "LSTM" else (h_shape,)

    def _prepare(self, input, hx):
        """Checks as PyTorch; returns (input (L, N, in), states [(D·layers, N, ·)…],
        is_batched). ``hx`` is a tensor, or (h, c) for LSTM."""
        name = "RNN" if self.mode.startswith("RNN") else self.mode
        if input.ndim not in (2, 3):
            tail = " tensor" if name == "RNN" else ""
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D{tail} "
                             f"instead")
        is_batched = input.ndim == 3
        lstm = self.mode == "LSTM"
        states = None if hx is None else (tuple(hx) if lstm else (hx,))
        if states is not None:
            want = 3 if is_batched else 2
            if any(s.ndim != want for s in states):
                what = "batched 3-D" if is_batched else "unbatched 2-D"
                if lstm:
                    dims = ", ".join(f"{s.ndim}-D" for s in states)
                    raise RuntimeError(f"For {what} input, hx and cx should also be {want}-D but "
                                       f"got ({dims}) tensors")
                raise RuntimeError(f"For {what} input, hx should also be {want}-D but got "
                                   f"{states[0].ndim}-D tensor")
        if not is_batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
            states = None if states is None else tuple(s.unsqueeze(1) for s in states)
        if self.batch_first:
            input = input.transpose(0, 1)
        if input.dtype != self.weight_ih_l0.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({self.weight_ih_l0.dtype}). Convert input: "
                             f"input.to({self.weight_ih_l0.dtype}), or convert model: "
                             f"model.to({input.dtype})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        if input.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        shapes = self._state_shapes(input.shape[1])
        if states is None:
            states = tuple(creation.zeros(shape, dtype=input.dtype, device=input.device)
                           for shape in shapes)
        for index, (state, shape) in enumerate(zip(states, shapes)):
            if tuple(state.shape) != shape:
                what = f"hidden[{index}]" if lstm else "hidden"
                raise RuntimeError(f"Expected {what} size {shape}, got {list(state.shape)}")
        return input, states, is_batched

    def _direction(self, x, state, layer, reverse):
        """Run layer ``layer`` in one direction over x (L, N, in) from ``state`` (a tuple
        of (N, ·) tensors); returns (outputs (L, N, H_out), final state tuple)."""
        suffix = f"_l{layer}{'_reverse' if reverse else ''}"
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        w_hr = getattr(self, "weight_hr" + suffix) if self.proj_size > 0 else None
        if self.mode == "GRU":
            gx = linear(x, w_ih, b_ih)
        else:
            gx = linear(x, w_ih, fold_bias(b_ih, b_hh))
        steps = gx.unbind(0)                 # one node for all L views of the (L, N, G) block
        outputs = [None] * len(steps)
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        for t in order:
            if self.mode == "LSTM":
                state = lstm_step(steps[t], state[0], state[1], w_hh, w_hr)
            elif self.mode == "GRU":
                state = (gru_step(steps[t], state[0], w_hh, b_hh),)
            else:
                state = (rnn_step(steps[t], state[0], w_hh, self.nonlinearity),)
            outputs[t] = state[0]
        return stack(outputs, 0), state

    def _step(self, gx, state, w_hh, b_hh, w_hr):
        """One time step of the cell from ``state`` (a tuple of (n, ·) tensors)."""
        if self.mode == "LSTM":
            return lstm_step(gx, state[0], state[1], w_hh, w_hr)
        if self.mode == "GRU":
            return (gru_step(gx, state[0], w_hh, b_hh),)
        return (rnn_step(gx, state[0], w_hh, self.nonlinearity),)

    def _direction_packed(self, x, batch_sizes, state, layer, reverse):
        """One layer and direction over packed rows x (Σ batch_sizes, in): step t sees the
        first batch_sizes[t] rows; returns (packed outputs, final state tuple)."""
        suffix = f"_l{layer}{'_reverse' if reverse else ''}"
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        w_hr = getattr(self, "weight_hr" + suffix) if self.proj_size > 0 else None
        gx = linear(x, w_ih, b_ih if self.mode == "GRU" else fold_bias(b_ih, b_hh))
        steps = gx.split(batch_sizes, 0)
        outputs = [None] * len(steps)
        if not reverse:
            # rows past batch_sizes[t] have finished: they keep their last state
            for t, n in enumerate(batch_sizes):
                active = self._step(steps[t], tuple(s[:n] for s in state), w_hh, b_hh, w_hr)
                outputs[t] = active[0]
                state = tuple(a if n == s.shape[0] else cat([a, s[n:]], 0)
                              for a, s in zip(active, state))
        else:
            # rows start (from h_0) at their own last step, walking back from the end
            initial, current = state, None
            for t in range(len(batch_sizes) - 1, -1, -1):
                n = batch_sizes[t]
                if current is None:
                    current = tuple(s[:n] for s in initial)
                elif current[0].shape[0] < n:
                    done = current[0].shape[0]
                    current = tuple(cat([c, s[done:n]], 0) for c, s in zip(current, initial))
                current = self._step(steps[t], current, w_hh, b_hh, w_hr)
                outputs[t] = current[0]
            state = current
        return cat(outputs, 0), state

    def _run_packed(self, packed, hx):
        """The layer × direction loop over a PackedSequence; returns (packed output,
        final states in the caller's batch order)."""
        x, batch_sizes = packed.data, [int(b) for b in packed.batch_sizes.tolist()]
        if x.ndim != 2:
            raise ValueError(f"input.data must be 2-D (rows, input_size), got {x.ndim}-D")
        if x.dtype != self.weight_ih_l0.dtype:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype "
                             f"({self.weight_ih_l0.dtype}). Convert input: "
                             f"input.to({self.weight_ih_l0.dtype}), or convert model: "
                             f"model.to({x.dtype})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        shapes = self._state_shapes(batch_sizes[0])
        if hx is None:
            states = tuple(creation.zeros(shape, dtype=x.dtype, device=x.device)
                           for shape in shapes)
        else:
            states = tuple(hx) if self.mode == "LSTM" else (hx,)
            for index, (state, shape) in enumerate(zip(states, shapes)):
                if tuple(state.shape) != shape:
                    what = f"hidden[{index}]" if self.mode == "LSTM" else "hidden"
                    raise RuntimeError(f"Expected {what} size {shape}, got "
                                       f"{list(state.shape)}")
            if packed.sorted_indices is not None:
                states = tuple(index_select(s, 1, packed.sorted_indices) for s in states)
        per_slot = list(zip(*(s.unbind(0) for s in states)))
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(self.num_directions):
                slot = layer * self.num_directions + direction
                out, final = self._direction_packed(x, batch_sizes, per_slot[slot], layer,
                                                    reverse=direction == 1)
                outs.append(out)
                finals.append(final)
            x = outs[0] if len(outs) == 1 else cat(outs, dim=1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        final_states = [stack(list(s), 0) for s in zip(*finals)]
        if packed.unsorted_indices is not None:
            final_states = [index_select(s, 1, packed.unsorted_indices) for s in final_states]
        output = PackedSequence(x, packed.batch_sizes, packed.sorted_indices,
                                packed.unsorted_indices)
        return output, final_states

    def _run(self, input, hx):
        """The layer × direction loop; returns (output, final states) in the caller's
        layout (batch_first, unbatched)."""
        if isinstance(input, PackedSequence):
            return self._run_packed(input, hx)
        x, states, is_batched = self._prepare(input, hx)
        per_slot = list(zip(*(s.unbind(0) for s in states)))   # (h, c) per layer·direction
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(self.num_directions):
                slot = layer * self.num_directions + direction
                out, final = self._direction(x, per_slot[slot], layer, reverse=direction == 1)
                outs.append(out)
                finals.append(final)
            x = outs[0] if len(outs) == 1 else cat(outs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        final_states = [stack(list(s), 0) for s in zip(*finals)]
        if self.batch_first:
            x = x.transpose(0, 1)
        if not is_batched:
            x = x.squeeze(0 if self.batch_first else 1)
            final_states = [s.squeeze(1) for s in final_states]
        return x, final_states


class RNN(RNNBase):
    """Elman RNN, h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (``nonlinearity``
    'tanh' or 'relu'). ``forward(input, hx=None)`` → (output, h_n); see the module docstring.

    Args: input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity, args = args[3], args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        output, (h_n,) = self._run(input, hx)
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o; ``rnn_cell.py``). ``forward(input,
    hx=None)`` with hx = (h_0, c_0) → (output, (h_n, c_n)); ``proj_size > 0`` projects
    each h_t to proj_size with ``weight_hr_l{k}`` (Sak et al. 2014).

    Args: input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n; ``rnn_cell.py``). ``forward(input, hx=None)``
    → (output, h_n).

    Args: input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        output, (h_n,) = self._run(input, hx)
        return output, h_n
