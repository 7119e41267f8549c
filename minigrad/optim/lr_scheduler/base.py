"""The scheduler base class (``LRScheduler``): stepping, the step-order warning, state
dicts, and the helpers every schedule shares."""
import functools
import warnings
import weakref

from ..optimizer import Optimizer


def _track_step_calls(optimizer):
    """Wrap ``optimizer.step`` on the instance so that a call sets ``optimizer._opt_called``
    (PyTorch does exactly this): the scheduler's first ``step()`` can then tell whether the
    optimizer stepped before it. Wrapping the instance's bound method, whatever class
    defines it, also covers a user's ``Optimizer`` subclass that overrides ``step``."""
    if getattr(optimizer.step, "_wrapped_by_lr_sched", False):
        return
    optimizer_ref = weakref.ref(optimizer)
    func = optimizer.step.__func__

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        opt = optimizer_ref()
        opt._opt_called = True
        return func.__get__(opt, type(opt))(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True
    optimizer.step = wrapper

class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` (the new lr of every group, read
    from the current ones and ``self.last_epoch``)."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        _track_step_calls(optimizer)
        self._initial_step()

    def _initial_step(self):
        """The constructor's step (to epoch 0 from −1), which keeps the optimizer's lr as it
        is for the recursive schedules; SequentialLR calls it again on each child."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        raise NotImplementedError

    def get_last_lr(self):
        """The lr of every group as set by the last ``step()``."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance one epoch (or jump to ``epoch``, via the closed form when there is one)."""
        if self._step_count == 1:
            if not getattr(self.optimizer.step, "_wrapped_by_lr_sched", False):
                warnings.warn("Seems like `optimizer.step()` has been overridden after learning "
                              "rate scheduler initialization. Please, make sure to call "
                              "`optimizer.step()` before `lr_scheduler.step()`.",
                              UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn("Detected call of `lr_scheduler.step()` before "
                              "`optimizer.step()`. You should call them in the opposite order: "
                              "`optimizer.step()` before `lr_scheduler.step()`. Failure to do "
                              "this will result in skipping the first value of the learning "
                              "rate schedule.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn("The epoch parameter in `scheduler.step()` is deprecated; call "
                          "`scheduler.step()` without it.", UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        """Set every group's lr for the next epoch, or for ``epoch`` (by the closed form)."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (and, for LambdaLR, the functions themselves)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)

def _per_group(name, optimizer, value):
    """One value per parameter group: a list/tuple of exactly that many, or one repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has "
                             f"{len(optimizer.param_groups)}.")
        return list(value)
    return [value] * len(optimizer.param_groups)
