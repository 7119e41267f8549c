"""L-BFGS (Nocedal 1980; Liu & Nocedal 1989) with an optional strong-Wolfe line search,
following ``torch.optim.LBFGS`` step for step (itself after Schmidt's minFunc).

L-BFGS is a quasi-Newton method: it moves along d = −H g, where H approximates the
inverse Hessian from the last m pairs of parameter and gradient changes

    s_k = θ_{k+1} − θ_k,     y_k = g_{k+1} − g_k,     ρ_k = 1 / (y_kᵀ s_k),

without ever forming a matrix. The *two-loop recursion* computes H g in O(m n):

    q ← −g
    for k = newest … oldest:   α_k = ρ_k s_kᵀ q;   q ← q − α_k y_k
    r ← γ q,   γ = s_ᵀy / yᵀy of the newest pair   (the initial Hessian, a scaled identity)
    for k = oldest … newest:   β_k = ρ_k y_kᵀ r;   r ← r + (α_k − β_k) s_k
    d = r

which is BFGS's update H_{k+1} = (I − ρ s yᵀ) H_k (I − ρ y sᵀ) + ρ s sᵀ applied m times
to γI. A pair is only stored when yᵀs > 1e-10 (curvature condition; otherwise H would
stop being positive definite), and the oldest is dropped past ``history_size``.

One ``step(closure)`` runs up to ``max_iter`` iterations (and ``max_eval`` closure
calls). The first iteration ever is steepest descent with step ``min(1, 1/‖g‖₁)·lr``;
later ones try ``t = lr``. Without a line search the parameters move by ``t·d``; with
``line_search_fn="strong_wolfe"`` t is chosen to satisfy

    f(θ + t d) ≤ f(θ) + c₁ t gᵀd            (sufficient decrease, c₁ = 1e-4)
    |∇f(θ + t d)ᵀ d| ≤ c₂ |gᵀd|             (curvature, c₂ = 0.9)

by bracketing (growing t by cubic extrapolation until the interval holds a point), then
zooming (cubic interpolation of the two ends' values and slopes, kept 10 % from the ends
when progress stalls). The iterations stop on ‖g‖_∞ ≤ ``tolerance_grad``, on a step or
loss change below ``tolerance_change``, or when gᵀd > −``tolerance_change`` (no descent).

The state (PyTorch's keys, held under the first parameter so ``state_dict`` works) carries
the history across ``step`` calls: ``d t old_dirs old_stps ro H_diag prev_flat_grad
prev_loss al n_iter func_evals``. Vectors are flat arrays over all parameters in order,
computed with whole-array xp operations; scalars are Python floats (PyTorch's 0-d
float64 tensors round identically).
"""
from ..tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, bump_versions, check_hyperparameter


def cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clipped
    to ``bounds`` (default: between the two points); the bounds' midpoint when the cubic
    has no real minimiser. With d₁ = g₁ + g₂ − 3 (f₁ − f₂)/(x₁ − x₂) and
    d₂ = √(d₁² − g₁g₂), measured from the farther point x₂ (x₁ ≤ x₂):
    x* = x₂ − (x₂ − x₁)(g₂ + d₂ − d₁)/(g₂ − g₁ + 2 d₂)."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = d2_square ** 0.5
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, low), high)


def strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """Line search along d from the point with loss f, gradient g and slope gtd = gᵀd.
    ``evaluate(t)`` returns (loss, flat gradient) at θ + t d. Returns (f, g, t, evaluations)
    of the accepted point (module docstring)."""
    d_norm = float(abs(d).max())
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new.dot(d))
    # Bracketing: find an interval [t_prev, t] holding a point that satisfies both conditions.
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # Still descending: extrapolate, between 1.01 t and 10 t.
        t_next = cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # Zoom: shrink the bracket until its low end satisfies the curvature condition.
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    insufficient_progress = False
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_minimum(bracket[0], bracket_f[0], bracket_gtd[0],
                          bracket[1], bracket_f[1], bracket_gtd[1])
        # Keep t at least 10 % of the bracket away from its ends when progress stalls.
        lo, hi = min(bracket), max(bracket)
        margin = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < margin:
            if insufficient_progress or t >= hi or t <= lo:
                t = hi - margin if abs(t - hi) < abs(t - lo) else lo + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            # Not a sufficient decrease, or no better than the low end: new high end.
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # The minimum lies between t and the old low end: that end becomes high.
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
    tolerance_change=1e-9, history_size=100, line_search_fn=None)``; ``step(closure)``
    requires the closure (it re-evaluates the loss and calls backward). One parameter
    group only, as in PyTorch; ``max_eval`` defaults to ``max_iter * 5 // 4``."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        check_hyperparameter("lr", lr, label="learning rate")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ----------------------------------------------------------- flat-vector helpers
    def _flat_grad(self):
        """All gradients as one flat array (zeros for a parameter without one)."""
        xp = self._params[0].xp
        return xp.concatenate([
            xp.zeros(p.numel(), dtype=p.array.dtype) if p.grad is None
            else p.grad.array.reshape(-1) for p in self._params])

    def _add_step(self, t, d):
        """θ ← θ + t·d, each parameter reading its slice of the flat d."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.array += t * d[offset:offset + n].reshape(p.array.shape)
            offset += n
        bump_versions(*self._params)

    def _evaluate_at(self, closure, x, t, d):
        """Loss and flat gradient at θ = x + t d, then θ is put back to x."""
        self._add_step(t, d)
        loss = float(closure())
        flat_grad = self._flat_grad()
        for p, saved in zip(self._params, x):
            p.array[...] = saved
        bump_versions(*self._params)
        return loss, flat_grad

    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations (module docstring); returns the loss the
        closure gave at the starting point."""
        if closure is None:
            raise TypeError("LBFGS requires a closure that re-evaluates the loss: "
                               "optimizer.step(closure)")

        def evaluate():
            with enable_grad():
                return closure()

        with no_grad():
            return self._step(evaluate)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search_fn = group["history_size"], group["line_search_fn"]
        xp = self._params[0].xp
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:
            return orig_loss

        unwrap = lambda v: v.array if isinstance(v, Tensor) else v  # noqa: E731
        d, t = unwrap(state.get("d")), state.get("t")
        old_dirs = [unwrap(v) for v in state.get("old_dirs", [])]
        old_stps = [unwrap(v) for v in state.get("old_stps", [])]
        ro, H_diag = list(state.get("ro", [])), state.get("H_diag")
        prev_flat_grad, prev_loss = unwrap(state.get("prev_flat_grad")), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # -------- the direction: steepest descent first, then the two-loop recursion
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(xp.dot(y, s))
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(xp.dot(y, y))
                al = state.setdefault("al", [None] * history_size)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = float(xp.dot(old_stps[i], q)) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = q * H_diag
                for i in range(len(old_dirs)):
                    beta = float(xp.dot(old_dirs[i], d)) * ro[i]
                    d += (al[i] - beta) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # -------- the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(xp.dot(flat_grad, d))
            if gtd > -tolerance_change:
                break
            evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p.array.copy() for p in self._params]
                loss, flat_grad, t, evals = strong_wolfe(
                    lambda step: self._evaluate_at(closure, x_init, step, d),
                    t, d, loss, flat_grad, gtd, tolerance_change=1e-9,
                    max_ls=max_eval - current_evals)
                self._add_step(t, d)
                converged = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_step(t, d)
                converged = False
                if n_iter != max_iter:
                    # Not re-evaluated after the last iteration (PyTorch's choice: in a
                    # stochastic setting the value would be of no use).
                    loss = float(closure())
                    flat_grad = self._flat_grad()
                    converged = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals

            # -------- stopping tests
            if n_iter == max_iter or current_evals >= max_eval or converged:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        wrap = lambda v: Tensor._wrap(v) if v is not None else None  # noqa: E731
        state.update(d=wrap(d), t=t, old_dirs=[wrap(v) for v in old_dirs],
                     old_stps=[wrap(v) for v in old_stps], ro=ro, H_diag=H_diag,
                     prev_flat_grad=wrap(prev_flat_grad), prev_loss=prev_loss)
        return orig_loss
