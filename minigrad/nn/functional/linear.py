"""The affine map ``F.linear``: y = x Wᵀ + b.

Shapes: x (*, in), W (out, in), b (out,) → y (*, out), with any number of leading dims.
It is a composite of two differentiable ops, so its VJP is theirs:

    dx = dy W,     dW = Σ_batch dyᵀ x  (= dyᵀ x for 2-D x),     db = Σ_batch dy.

This is the dense layer ``Z = W A + b`` of column-vector texts in PyTorch's row-major
batch convention; with δ = ∂J/∂Z its gradients are (docs/seeds.md#errata-001):
∂J/∂W = δ Aᵀ (with the transposes in the right place) and ∂J/∂b = Σ_batch δ.
"""
from ...tensor import Tensor
from ...ops.linalg import matmul

__all__ = ["linear"]


def linear(input, weight, bias=None):
    """y = input @ weightᵀ + bias;  input (*, in), weight (out, in) or (in,), bias (out,) or ()."""
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"linear(): argument '{name}' must be Tensor, not {type(value).__name__}")
    if weight.ndim not in (1, 2):
        raise RuntimeError(f"linear(): weight must be 1-D or 2-D (out_features, in_features), got "
                           f"weight of size {list(weight.shape)}")
    out = matmul(input, weight.mT if weight.ndim == 2 else weight)
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"linear(): argument 'bias' must be Tensor, not {type(bias).__name__}")
        expected = weight.shape[:1] if weight.ndim == 2 else ()
        if tuple(bias.shape) not in (tuple(expected), (1,), ()):
            raise RuntimeError(f"linear(): bias of size {list(bias.shape)} does not match weight "
                               f"of size {list(weight.shape)} (expected bias of size "
                               f"{list(expected)})")
        out = out + bias
    return out
