"""Reference layer normalisation, forward and backward, over the trailing axes.

With ``A`` the last ``k = normalized_ndim`` axes of ``x (..., *S)`` (``S`` the normalised
shape, ``n = |S|`` elements per row) and ``γ, β`` of shape ``S`` (either may be absent):

    μ     = mean_A(x)                      rstd = 1 / √(mean_A((x − μ)²) + ε)   (biased σ²)
    x̂     = (x − μ) · rstd                 y    = γ ⊙ x̂ + β

and the vector-Jacobian product for an incoming ``dy = ∂L/∂y`` of the shape of ``x``:

    dx̂ = dy ⊙ γ
    dx  = rstd · (dx̂ − mean_A(dx̂) − x̂ ⊙ mean_A(dx̂ ⊙ x̂))
    dγ  = Σ_rows dy ⊙ x̂,     dβ = Σ_rows dy                 (summed over the leading axes)

The dx line is the derivative of the standardisation: subtracting μ removes the mean of
dx̂, and dividing by the standard deviation removes its component along x̂.  The forward
returns μ and rstd (shape ``(..., 1, …, 1)``, kept dims) so the backward does not
recompute them, as PyTorch's ``native_layer_norm`` does.  Everything stays in the input
dtype (float32 in, float32 out).
"""
from ..catalogue import CATALOGUE, get_array_module


def _trailing_axes(x, normalized_ndim):
    if not 1 <= normalized_ndim <= x.ndim:
        raise ValueError(f"layer_norm: normalized_ndim={normalized_ndim} for a {x.ndim}-d input")
    return tuple(range(x.ndim - normalized_ndim, x.ndim))


@CATALOGUE.reference("layer_norm_forward")
def layer_norm_forward(x, weight, bias, normalized_ndim, eps):
    """``(y, mean, rstd)``: ``y = γ ⊙ (x − μ)·rstd + β`` over the last ``normalized_ndim`` axes.

    ``x (..., *S)``, ``weight``/``bias`` ``S`` or None; ``y`` like ``x``, ``mean`` and
    ``rstd`` ``(..., 1, …, 1)``.
    """
    xp = get_array_module(x, weight, bias)
    axes = _trailing_axes(x, normalized_ndim)
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    # float(): a numpy float64 eps would promote float32 statistics to float64.
    rstd = 1.0 / xp.sqrt(var + float(eps))
    y = centred * rstd
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y, mean, rstd


@CATALOGUE.reference("layer_norm_backward")
def layer_norm_backward(dy, x, weight, mean, rstd, normalized_ndim):
    """``(dx, dweight, dbias)`` from the forward's ``mean`` and ``rstd``.

    ``dy``, ``x`` ``(..., *S)``; ``weight`` ``S`` or None; ``dx`` like ``x``, ``dweight``
    and ``dbias`` of shape ``S`` (``dweight`` is None when ``weight`` is).
    """
    axes = _trailing_axes(x, normalized_ndim)
    rows = tuple(range(x.ndim - normalized_ndim))
    x_hat = (x - mean) * rstd
    d_hat = dy if weight is None else dy * weight
    dx = rstd * (d_hat - d_hat.mean(axis=axes, keepdims=True)
                 - x_hat * (d_hat * x_hat).mean(axis=axes, keepdims=True))
    dweight = None if weight is None else (dy * x_hat).sum(axis=rows)
    dbias = dy.sum(axis=rows)
    return dx, dweight, dbias
