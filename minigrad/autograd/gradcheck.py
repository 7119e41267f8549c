"""Numerical gradient checks, PyTorch's ``gradcheck`` and ``gradgradcheck``.

For f: ℝⁿ → ℝᵐ the analytic Jacobian J (built row by row from vector-Jacobian products
with one-hot ``grad_outputs``) is compared with central differences

    J[:, j] ≈ (f(x + ε e_j) − f(x − ε e_j)) / 2ε,

entry by entry: |J_analytic − J_numeric| ≤ atol + rtol · |J_numeric|. Checks are meant for
float64 inputs; the error term of central differences is O(ε²), so ε = 1e-6 leaves ~1e-10
truncation error against ~1e-10 rounding error in float64.
"""
import itertools

import numpy as np

from ..creation import randn
from ..device import to_host
from ..tensor import Tensor
from .functional import as_tuple as _as_tuple, grad as autograd_grad


class GradcheckError(RuntimeError):
    """Raised when an analytic gradient disagrees with the numerical one."""


def _differentiable_outputs(func, inputs):
    outputs = _as_tuple(func(*inputs))
    return [o for o in outputs if isinstance(o, Tensor) and o.dtype.kind in "fV"]


def _numerical_jacobians(func, inputs, diff_indices, eps):
    """Per (input, output): an (input.numel, output.numel) matrix of central differences."""
    # Grad mode stays on: func may itself differentiate (gradgradcheck's first derivative).
    outputs = _differentiable_outputs(func, inputs)
    jacobians = {}
    for i in diff_indices:
        x = inputs[i]
        for o, out in enumerate(outputs):
            jacobians[i, o] = np.zeros((x.numel(), out.numel()), dtype=np.float64)
        for j, idx in enumerate(itertools.product(*[range(s) for s in x.shape])):
            original = x.array[idx].copy()
            x.array[idx] = original + eps
            plus = [to_host(o.array).astype(np.float64).ravel() for o in _differentiable_outputs(func, inputs)]
            x.array[idx] = original - eps
            minus = [to_host(o.array).astype(np.float64).ravel() for o in _differentiable_outputs(func, inputs)]
            x.array[idx] = original
            for o in range(len(outputs)):
                jacobians[i, o][j] = (plus[o] - minus[o]) / (2 * eps)
    return jacobians, outputs


def _analytical_jacobians(func, inputs, diff_indices, check_grad_dtypes=False):
    outputs = _differentiable_outputs(func, inputs)
    diff_inputs = [inputs[i] for i in diff_indices]
    jacobians = {}
    for o, out in enumerate(outputs):
        for i in diff_indices:
            jacobians[i, o] = np.zeros((inputs[i].numel(), out.numel()), dtype=np.float64)
        if not out.requires_grad:
            continue
        for k in range(out.numel()):
            onehot = out.xp.zeros(out.numel(), dtype=out.dtype)
            onehot[k] = 1
            grads = autograd_grad(out, diff_inputs, grad_outputs=Tensor._wrap(onehot.reshape(out.shape)),
                                  retain_graph=True, allow_unused=True)
            for i, g in zip(diff_indices, grads):
                if g is not None:
                    if tuple(g.shape) != tuple(inputs[i].shape):
                        raise GradcheckError(f"Gradient has wrong shape: got {tuple(g.shape)} for an "
                                             f"input of shape {tuple(inputs[i].shape)}")
                    if check_grad_dtypes and g.dtype != inputs[i].dtype:
                        raise GradcheckError(f"Gradient has dtype mismatch: got {g.dtype} for an "
                                             f"input of dtype {inputs[i].dtype}")
                    jacobians[i, o][:, k] = to_host(g.array).astype(np.float64).ravel()
    return jacobians


def _describe_failure(i, o, inputs, analytic, numeric, eps, atol, rtol, bad):
    lines = [f"Jacobian mismatch for output {o} with respect to input {i},",
             f"input {i} (shape {tuple(inputs[i].shape)}, dtype {inputs[i].dtype}):",
             np.array2string(to_host(inputs[i].array), precision=6, threshold=50),
             f"eps={eps}, atol={atol}, rtol={rtol}; entries that differ "
             f"(input element, output element): analytic vs numeric"]
    for r, c in list(zip(*np.nonzero(bad)))[:10]:
        lines.append(f"  ({r}, {c}): analytic {analytic[r, c]:.10g}  numeric {numeric[r, c]:.10g}")
    if bad.sum() > 10:
        lines.append(f"  ... and {int(bad.sum()) - 10} more")
    return "\n".join(lines)


def _refuse_unimplemented(**options):
    """PyTorch's checks minigrad does not implement raise rather than pass unchecked."""
    for name, value in options.items():
        if value:
            raise NotImplementedError(f"gradcheck option {name}={value!r} is not implemented by "
                                      f"minigrad (it checks reverse-mode gradients only)")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """True if the analytic Jacobian of ``func`` at ``inputs`` matches central differences
    for every floating input with ``requires_grad``; otherwise raise (or return False).

    ``check_grad_dtypes`` also requires each gradient in its input's dtype. Two of
    PyTorch's options hold by construction: ``nondet_tol`` (minigrad's backward is
    deterministic) and ``check_undefined_grad`` (the engine hands backward zeros, never an
    undefined gradient). The rest (batched, forward-mode, fast-mode, masked checks, or
    ``check_backward_ad=False``) raise NotImplementedError."""
    _refuse_unimplemented(check_batched_grad=check_batched_grad,
                          check_batched_forward_grad=check_batched_forward_grad,
                          check_forward_ad=check_forward_ad, fast_mode=fast_mode, masked=masked,
                          check_backward_ad=not check_backward_ad)
    if nondet_tol < 0:
        raise ValueError(f"nondet_tol must be non-negative, got {nondet_tol}")
    inputs = _as_tuple(inputs)
    diff_indices = [i for i, x in enumerate(inputs)
                    if isinstance(x, Tensor) and x.requires_grad and x.dtype.kind in "fV"]
    if not diff_indices:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    numeric, outputs = _numerical_jacobians(func, inputs, diff_indices, eps)
    if not outputs:
        raise ValueError("gradcheck expects func to return at least one floating-point tensor")
    analytic = _analytical_jacobians(func, inputs, diff_indices, check_grad_dtypes)
    for (i, o), num in numeric.items():
        ana = analytic[i, o]
        bad = ~(np.abs(ana - num) <= atol + rtol * np.abs(num))
        if bad.any():
            message = _describe_failure(i, o, inputs, ana, num, eps, atol, rtol, bad)
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the first derivative: the VJP x, v ↦ (∂f/∂x)ᵀ v, built with
    ``create_graph=True``, is itself checked against central differences in x and v.
    Options as in ``gradcheck``; non-contiguous grad_outputs and forward-over-reverse
    checks raise NotImplementedError."""
    _refuse_unimplemented(gen_non_contig_grad_outputs=gen_non_contig_grad_outputs,
                          check_batched_grad=check_batched_grad,
                          check_fwd_over_rev=check_fwd_over_rev, fast_mode=fast_mode,
                          masked=masked, check_rev_over_rev=not check_rev_over_rev)
    inputs = _as_tuple(inputs)
    diff_indices = [i for i, x in enumerate(inputs)
                    if isinstance(x, Tensor) and x.requires_grad and x.dtype.kind in "fV"]
    outputs = _differentiable_outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(randn(o.shape, dtype=o.dtype, device=o.device, requires_grad=True)
                             for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        outs = _differentiable_outputs(func, xs)
        pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        if not pairs:
            return tuple(Tensor._wrap(xs[i].xp.zeros_like(xs[i].array)) for i in diff_indices)
        grads = autograd_grad([o for o, _ in pairs], [xs[i] for i in diff_indices],
                              grad_outputs=[v for _, v in pairs], create_graph=True,
                              allow_unused=True, materialize_grads=True)
        return grads

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes)
