"""The affine map ``F.linear``: y = x Wᵀ + b.

Shapes: x (*, in), W (out, in), b (out,) → y (*, out), with any number of leading dims.
It is a composite of two differentiable ops, so its VJP is theirs:

    dx = dy W,     dW = Σ_batch dyᵀ x  (= dyᵀ x for 2-D x),     db = Σ_batch dy.

This is the dense layer ``Z = W A + b`` of column-vector texts in PyTorch's row-major
batch convention; with δ = ∂J/∂Z its gradients are (docs/seeds.md#errata-001):
∂J/∂W = δ Aᵀ (with the transposes in the right place) and ∂J/∂b = Σ_batch δ.
"""
from ...ops.linalg import Linear, matmul
from ...ops.operands import check_tensor

__all__ = ["linear"]


def linear(input, weight, bias=None):
    """y = input @ weightᵀ + bias;  input (*, in), weight (out, in) or (in,), bias (out,) or ()."""
    check_tensor(input, "linear")
    check_tensor(weight, "linear", "weight")
    if weight.ndim not in (1, 2):
        raise RuntimeError(f"linear(): weight must be 1-D or 2-D (out_features, in_features), got "
                           f"weight of size {list(weight.shape)}")
    if bias is not None:
        check_tensor(bias, "linear", "bias")
    if _fits_one_node(input, weight, bias):
        rows = input if input.ndim == 2 else input.reshape(-1, input.shape[-1])
        out = Linear.apply(rows, weight, bias)
        return out if input.ndim == 2 else out.reshape(*input.shape[:-1], weight.shape[0])
    out = matmul(input, weight.mT if weight.ndim == 2 else weight)
    if bias is not None:
        expected = weight.shape[:1] if weight.ndim == 2 else ()
        if tuple(bias.shape) not in (tuple(expected), (1,), ()):
            raise RuntimeError(f"linear(): bias of size {list(bias.shape)} does not match weight "
                               f"of size {list(weight.shape)} (expected bias of size "
                               f"{list(expected)})")
        out = out + bias
    return out


def _fits_one_node(input, weight, bias):
    """The common case the fused ``Linear`` node covers: a batch of rows, a 2-D weight with
    matching in-features, one dtype and device, a (out,) bias or none. Everything else
    (1-D operands, promotion, shape errors and their messages) goes through the composite."""
    if input.ndim < 2 or weight.ndim != 2 or input.shape[-1] != weight.shape[1]:
        return False
    if input.numel() == 0:
        return False       # reshape(-1, 0) is ambiguous; the composite handles empty batches
    if input.dtype != weight.dtype or input.dtype.kind != "f" or input.device != weight.device:
        return False
    return bias is None or (tuple(bias.shape) == tuple(weight.shape[:1])
                            and bias.dtype == input.dtype and bias.device == input.device)
