"""minigrad's autograd on one page: read this before ``minigrad/autograd/``.

A ``Tensor`` is a float64 numpy array plus the ``node`` (a ``Function`` applied once) that
produced it. Every op does two things: ``forward`` maps input arrays to an output array, and
``backward`` maps the output's gradient ḡ to one gradient per input, the vector-Jacobian
product (∂y/∂x)ᵀ ḡ. ``loss.backward()`` sends ∂loss/∂loss = 1 back through the graph.

Three ideas carry over unchanged to the real engine (``minigrad/autograd/engine.py``,
``function.py``, ``ops/broadcast.py``):

* **Kahn's algorithm, no recursion.** Pass 1 counts, for every node, the edges that reach
  it from its consumers; pass 2 runs a node once all of them have added their share to
  its gradient buffer: ḡ_x = Σ over consumers c of x of (∂c/∂x)ᵀ ḡ_c. Both passes use
  an explicit stack, so a 10,000-op chain is as easy as a 3-op one.
* **Outputs held weakly.** A node holds its inputs (backward needs them) but only a weak
  reference to its output. Arrows point from the loss towards the leaves only, so no
  reference cycle exists: dropping the loss frees the whole graph by reference counting.
* **Broadcast gradients are reduced in one place.** An op whose input was broadcast
  returns its gradient at the broadcast shape; ``sum_to`` folds it back, once, in the loop.

What it leaves out, and where the real engine has it: gradients here are arrays, not
Tensors (no ``create_graph``); no dtypes, devices, views or in-place ops; a 2-D ``@``
and whole-tensor ``sum`` only. ``tests/textbook/test_tiny_engine.py`` trains an MLP in this
engine and in ``minigrad`` from the same weights and checks the gradients agree to 1e-12.
"""
import weakref

import numpy as np


def sum_to(g, shape):
    """Σ of ``g`` over the axes broadcasting added or stretched, so the result has ``shape``.
    The VJP of broadcasting x: (s) → (S) is dx = sum_to(ḡ, s), (S) → (s)."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


class Tensor:
    """An array ``data``; its ``grad`` after backward; ``node``: the op that made it."""

    def __init__(self, data, requires_grad=False):
        self.data = np.asarray(data, dtype=np.float64)
        self.requires_grad, self.grad, self.node = requires_grad, None, None

    shape = property(lambda self: self.data.shape)
    def __add__(self, other): return Add()(self, as_tensor(other))
    def __mul__(self, other): return Mul()(self, as_tensor(other))
    def __matmul__(self, other): return MatMul()(self, other)
    def relu(self): return ReLU()(self)
    def sum(self): return Sum()(self)
    def log_softmax(self): return LogSoftmax()(self)

    def backward(self):
        """Accumulate ∂self/∂x into ``x.grad`` of every leaf x that requires grad."""
        pending, stack = {}, [self.node]        # pass 1: edges into each node
        while stack:
            for x in stack.pop().inputs:
                if x.node is not None:
                    pending[x.node] = pending.get(x.node, 0) + 1
                    if pending[x.node] == 1:    # first edge found: visit it once
                        stack.append(x.node)
        buffers, ready = {self.node: np.ones_like(self.data)}, [self.node]
        while ready:                            # pass 2: run nodes whose buffer is full
            node = ready.pop()
            for x, g in zip(node.inputs, node.backward(buffers.pop(node))):
                g = sum_to(g, x.shape)
                if x.node is None:              # a leaf: accumulate, as PyTorch does
                    if x.requires_grad:
                        x.grad = g if x.grad is None else x.grad + g
                    continue
                buffers[x.node] = buffers[x.node] + g if x.node in buffers else g
                pending[x.node] -= 1
                if pending[x.node] == 0:
                    ready.append(x.node)


def as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class Function:
    """One application of an op. Records itself as the output's node only when an input
    requires grad; keeps ``inputs`` strongly and ``output`` as a ``weakref.ref``."""

    def __call__(self, *inputs):
        out = Tensor(self.forward(*(x.data for x in inputs)))
        if any(x.requires_grad for x in inputs):
            out.requires_grad, out.node = True, self
            self.inputs, self.output = inputs, weakref.ref(out)
        return out


class Add(Function):
    """y = a + b, broadcast.   a: (s_a), b: (s_b) → y: (S) = broadcast(s_a, s_b)
    VJP: da = sum_to(ḡ, s_a), db = sum_to(ḡ, s_b) (the sums are done by the engine)."""
    def forward(self, a, b): return a + b
    def backward(self, g): return g, g


class Mul(Function):
    """y = a ⊙ b, broadcast.   a: (s_a), b: (s_b) → y: (S)
    VJP: da = sum_to(ḡ ⊙ b, s_a), db = sum_to(ḡ ⊙ a, s_b)."""
    def forward(self, a, b): return a * b

    def backward(self, g):
        a, b = self.inputs
        return g * b.data, g * a.data


class MatMul(Function):
    """Y = A B.   A: (M, K), B: (K, N) → Y: (M, N)
    VJP: dA = Ḡ Bᵀ (M, K), dB = Aᵀ Ḡ (K, N)."""
    def forward(self, a, b): return a @ b

    def backward(self, g):
        a, b = self.inputs
        return g @ b.data.T, a.data.T @ g


class ReLU(Function):
    """y = max(x, 0), elementwise.   (S) → (S)
    VJP: dx = ḡ ⊙ [x > 0] (the subgradient 0 at x = 0, as PyTorch)."""
    def forward(self, x): return np.maximum(x, 0.0)
    def backward(self, g): return (g * (self.inputs[0].data > 0),)


class Sum(Function):
    """y = Σᵢ xᵢ over every element.   (S) → ()
    VJP: dx = ḡ · 1, the scalar ḡ broadcast to (S)."""
    def forward(self, x): return x.sum()
    def backward(self, g): return (np.broadcast_to(g, self.inputs[0].shape),)


class LogSoftmax(Function):
    """yᵢⱼ = xᵢⱼ − mᵢ − log Σₖ exp(xᵢₖ − mᵢ), mᵢ = maxₖ xᵢₖ, (last axis).   (N, C) → (N, C)
    Shifting by mᵢ changes nothing mathematically and keeps exp from overflowing.
    VJP: ∂yᵢⱼ/∂xᵢₖ = [j = k] − softmax(x)ᵢₖ, so dxᵢₖ = ḡᵢₖ − exp(yᵢₖ) Σⱼ ḡᵢⱼ; softmax is
    rebuilt from the output, which is alive during backward (its consumer holds it)."""

    def forward(self, x):
        shifted = x - x.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))

    def backward(self, g):
        return (g - np.exp(self.output().data) * g.sum(axis=-1, keepdims=True),)
