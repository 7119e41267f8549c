"""Flat buffers for one-launch optimizer updates on the GPU (Adam's ``cuda`` kernel).

A GPU update pays per launch, not per byte, for the small tensors of a model: PyTorch's
``foreach``/``fused`` Adam packs pointer lists into kernel parameters ("multi-tensor
apply") to update every parameter of a group in one launch.  numba.cuda kernels cannot
take a list of arrays, so minigrad packs the *data* instead (``kernels/cuda/optimizer.py``):

* ``FlatBuffers`` copies the parameters of one (group, device, dtype) bucket and their
  named state tensors (``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``) into one flat
  buffer each, then re-binds each tensor's ``array`` to its slice of the buffer, reshaped
  (a view: writing the buffer writes the tensor).  The Tensor objects keep their identity,
  so modules, ``state_dict`` and autograd see the same parameters;
* gradients are new arrays after every backward, so ``gather_grads`` copies them into a
  flat gradient buffer with one ``concatenate``;
* ``holds`` says whether the packing is still intact (same tensors, each still holding the
  view it was given); anything that re-binds an array (``load_state_dict``, a parameter
  gaining or losing its gradient, ``param.data = ...``) makes the optimizer pack again,
  copying the current values, so a stale packing is never written through.

Caveat of the design: an array taken from a parameter *before* its first packed step (a
view made with ``param.array[...]``, say) keeps pointing at the old memory.  Tensors
and their ``.data`` views made afterwards share the buffer.
"""


class FlatBuffers:
    """``params`` (Tensors of one device and dtype) and ``states`` (their optimizer state
    dicts) packed as views into flat buffers: ``theta``, ``grad``, and ``state[key]`` for
    each of ``keys``; every buffer is ``(Σ numel,)`` of the parameters' dtype."""

    def __init__(self, xp, params, states, keys):
        dtype = params[0].array.dtype
        total = sum(p.array.size for p in params)
        self.keys = tuple(keys)
        self.theta = xp.empty(total, dtype=dtype)
        self.grad = xp.empty(total, dtype=dtype)
        self.state = {key: xp.empty(total, dtype=dtype) for key in self.keys}
        self._bound = []                       # (tensor, the array object it was given)
        offset = 0
        for param, state in zip(params, states):
            size, shape = param.array.size, param.array.shape
            self._bind(param, self.theta, offset, size, shape)
            for key in self.keys:
                self._bind(state[key], self.state[key], offset, size, shape)
            offset += size
        self.params = list(params)
        self.states = list(states)

    def _bind(self, tensor, buffer, offset, size, shape):
        view = buffer[offset:offset + size]
        view[...] = tensor.array.reshape(-1)
        tensor.array = view.reshape(shape)
        self._bound.append((tensor, tensor.array))

    def holds(self, params, states, keys):
        """True if these are the packed tensors, in order, each still a view of its buffer."""
        if tuple(keys) != self.keys or len(params) != len(self.params):
            return False
        if any(p is not q for p, q in zip(params, self.params)):
            return False
        expected = [param for param in params]
        for state in states:
            expected.extend(state[key] for key in self.keys)
        if len(expected) != len(self._bound):
            return False
        bound = {id(tensor): array for tensor, array in self._bound}
        return all(bound.get(id(tensor)) is tensor.array for tensor in expected)

    def gather_grads(self, xp, grads):
        """Copy the gradient arrays (in the parameters' order) into ``grad``; returns it."""
        return xp.concatenate([g.reshape(-1) for g in grads], out=self.grad)

    def tensors(self):
        """Every packed tensor: parameters, then state tensors."""
        return [tensor for tensor, _ in self._bound]
