"""``GradScaler``: dynamic loss scaling for float16 training, PyTorch's ``torch.amp.GradScaler``.

Small float16 gradients underflow to zero. The scaler multiplies the loss by ``S`` before
backward (``scale``), so every gradient is ``S`` times larger, then divides the gradients by
``S`` again before the optimizer uses them (``unscale_``, called by ``step`` unless the user
called it first, e.g. to clip). A step whose unscaled gradients hold an inf or NaN is
skipped, and ``update`` then backs the scale off (``S ← S·backoff_factor``, growth tracker
reset); after ``growth_interval`` consecutive finite steps it grows (``S ← S·growth_factor``).
The scale is a float32 0-d tensor, the tracker an int32 one, as in PyTorch.
"""
import enum
import warnings
from collections import defaultdict

import numpy as np

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..device import cuda_is_available
from ..tensor import Tensor


class OptState(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """``GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``: see the module docstring. Use::

        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)          # optional: before clip_grad_norm_
        scaler.step(optimizer)              # skipped when a gradient is inf/NaN
        scaler.update()
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = str(device)
        self._enabled = enabled
        if self._device == "cuda" and enabled and not cuda_is_available():
            warnings.warn("minigrad.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.")
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    # ------------------------------------------------------------------ scaling
    def _lazy_init_scale_growth_tracker(self, device):
        self._scale = Tensor(np.full((), self._init_scale, dtype=np.float32)).to(device)
        self._growth_tracker = Tensor(np.full((), self._init_growth_tracker,
                                              dtype=np.int32)).to(device)

    def _check_scale_growth_tracker(self, funcname):
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier " \
              "in the iteration."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def scale(self, outputs):
        """``outputs`` (a tensor, or lists/tuples of them) multiplied by the scale factor."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init_scale_growth_tracker(outputs.device)
            return outputs * self._scale.to(outputs.device)

        def apply_scale(value):
            if isinstance(value, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(value.device)
                return value * self._scale.to(value.device)
            if isinstance(value, (list, tuple)):
                scaled = [apply_scale(v) for v in value]
                return type(value)(scaled) if isinstance(value, tuple) else scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if not isinstance(param, Tensor) or param.grad is None:
                        continue
                    grad = param.grad
                    if not allow_fp16 and grad.dtype == dtypes.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    array = grad.array
                    xp = grad.xp
                    # PyTorch's _amp_foreach_non_finite_check_and_unscale_: g *= inv_scale,
                    # found_inf = 1 if any g was inf/NaN.
                    if not bool(xp.isfinite(array.astype(np.float32)).all()):
                        found_inf.array[...] = 1.0
                    array *= np.asarray(inv_scale, dtype=np.float32).astype(array.dtype)[()]
                    grad._version_counter.value += 1
        return {found_inf.device: found_inf}

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale, in place (once per ``update``)."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # PyTorch: scale.double().reciprocal().float(), a host number here
        inv_scale = np.float32(1.0 / np.float64(self._scale.item()))
        found_inf = Tensor(np.zeros(1, dtype=np.float32)).to(self._scale.device)
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf,
                                                             False)
        state["stage"] = OptState.UNSCALED

    def _maybe_opt_step(self, optimizer, state, *args, **kwargs):
        if not sum(float(v.item()) for v in state["found_inf_per_device"].values()):
            return optimizer.step(*args, **kwargs)
        return None

    def step(self, optimizer, *args, **kwargs):
        """``unscale_`` (unless done) then ``optimizer.step()``, skipped (returning None) when
        a gradient was inf/NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = self._maybe_opt_step(optimizer, state, *args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """Back the scale off if any step this iteration saw inf/NaN, else count a good step
        and grow it every ``growth_interval`` good steps; or set it to ``new_scale``."""
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.array[...] = new_scale
            else:
                reason = "new_scale should be a float or a 1-element torch.cuda.FloatTensor or " \
                         "torch.FloatTensor with requires_grad=False."
                if not (isinstance(new_scale, Tensor) and new_scale.numel() == 1
                        and new_scale.dtype == dtypes.float32 and not new_scale.requires_grad):
                    raise AssertionError(reason)
                scale.array[...] = new_scale.array.reshape(())
        else:
            found_infs = [found_inf for state in self._per_optimizer_states.values()
                          for found_inf in state["found_inf_per_device"].values()]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            found_inf = sum(float(f.item()) for f in found_infs)
            # PyTorch's _amp_update_scale_ (float32 arithmetic on the scale).
            if found_inf:
                scale.array[...] = scale.array * np.float32(self._backoff_factor)
                tracker.array[...] = 0
            else:
                successful = int(tracker.item()) + 1
                if successful == self._growth_interval:
                    grown = scale.array * np.float32(self._growth_factor)
                    if np.isfinite(grown):
                        scale.array[...] = grown
                    tracker.array[...] = 0
                else:
                    tracker.array[...] = successful
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    # ------------------------------------------------------------------ settings
    def _get_scale_async(self):
        return self._scale

    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale.item())

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else \
            int(self._growth_tracker.item())

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """``{scale, growth_factor, backoff_factor, growth_interval, _growth_tracker}`` (empty
        when disabled), PyTorch's keys."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.array[...] = state_dict["scale"]
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.array[...] = state_dict["_growth_tracker"]
