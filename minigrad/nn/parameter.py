"""``nn.Parameter``: a Tensor that a Module registers as something to learn.

A Parameter is an ordinary leaf Tensor with two differences, both PyTorch's:

* it requires grad by default (``Parameter(t)`` is ``t``'s values as a trainable leaf);
* assigning one as a Module attribute registers it, so it shows up in ``parameters()``,
  ``named_parameters()`` and ``state_dict()`` (see ``module.py``).

``Parameter(t)`` shares ``t``'s array and version counter, as ``torch.nn.Parameter`` shares
its storage: a later in-place write through either is seen by both. Operations on a
Parameter return plain Tensors (the op layer wraps results as ``Tensor``), so ``2 * w`` is
not itself a parameter.
"""
import copy

import numpy as np

from ..tensor import Tensor
from ..creation import empty, to_array


class Parameter(Tensor):
    """A Tensor that is a module parameter.

    Args:
        data: a Tensor (shared, not copied) or array-like data (copied into a new array).
            ``None`` gives an empty float tensor, as in PyTorch.
        requires_grad: whether the parameter takes part in autograd (default True).
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        self = super().__new__(cls)
        if isinstance(data, Tensor):
            # Share the array and its version counter: Parameter(t) is a new name for t's
            # values, cut from t's graph (torch's _make_subclass on t.detach()).
            self._init(data.array, False, data._version_counter)
        else:
            self._init(to_array(data).copy() if isinstance(data, np.ndarray) else to_array(data))
        # Goes through Tensor's setter, so an integer parameter that requires grad raises.
        self.requires_grad = requires_grad
        return self

    def __init__(self, data=None, requires_grad=True):
        # Everything happens in __new__ (Tensor.__init__ would rebuild the array).
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._wrap(self.array.copy()), self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor._wrap(self.grad.array.copy())
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = result
        return result
