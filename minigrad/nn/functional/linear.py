"""The affine map ``F.linear``: y = x Wᵀ + b (and the bilinear form ``F.bilinear``).

Shapes: x (*, in), W (out, in), b (out,) → y (*, out), with any number of leading dims.
It is a composite of two differentiable ops, so its VJP is theirs:

    dx = dy W,     dW = Σ_batch dyᵀ x  (= dyᵀ x for 2-D x),     db = Σ_batch dy.

This is the dense layer ``Z = W A + b`` of column-vector texts in PyTorch's row-major
batch convention; with δ = ∂J/∂Z its gradients are (docs/seeds.md#errata-001):
∂J/∂W = δ Aᵀ (with the transposes in the right place) and ∂J/∂b = Σ_batch δ.
"""
from ...ops.linalg import Linear, matmul
from ...ops.operands import check_tensor
from ...amp.autocast_mode import autocast_op

__all__ = ["linear", "bilinear"]


@autocast_op("linear")
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
    if input.dtype != weight.dtype or input.dtype.kind not in "fV" or input.device != weight.device:
        return False
    return bias is None or (tuple(bias.shape) == tuple(weight.shape[:1])
                            and bias.dtype == input.dtype and bias.device == input.device)


@autocast_op("bilinear")
def bilinear(input1, input2, weight, bias=None):
    """y_o = Σ_ij x1_i W[o, i, j] x2_j + b_o;  x1 (*, I), x2 (*, J) with equal leading dims,
    W (O, I, J), b (O,) → y (*, O).  Two broadcast matmuls: (x1 W) then (· x2), so the VJP
    is theirs: dx1 = Σ_o dy_o W[o] x2, dx2 = Σ_o dy_o W[o]ᵀ x1, dW[o] = Σ dy_o x1 x2ᵀ."""
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        check_tensor(t, "bilinear", name)
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, got {weight.ndim}")
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and "
                           f"{input2.ndim}")
    for d in range(input1.ndim - 1):
        if input1.shape[d] != input2.shape[d]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: got "
                               f"{input1.shape[d]} and {input2.shape[d]}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {weight.shape[2]}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[-1] if bias.ndim else 1} but expected {weight.shape[0]}")
    left = matmul(input1.unsqueeze(-2).unsqueeze(-3), weight)        # (*, O, 1, J)
    out = matmul(left, input2.unsqueeze(-2).unsqueeze(-1))             # (*, O, 1, 1)
    out = out.squeeze(-1).squeeze(-1)
    return out + bias if bias is not None else out
