"""Learning-rate schedules: ``StepLR MultiStepLR ExponentialLR CosineAnnealingLR LambdaLR
MultiplicativeLR LinearLR ConstantLR PolynomialLR CosineAnnealingWarmRestarts OneCycleLR``,
the combinators ``SequentialLR ChainedScheduler`` and the metric-driven
``ReduceLROnPlateau``, with PyTorch's step-by-step values.

A scheduler owns an optimizer and rewrites each group's ``lr`` when ``step()`` is called
(once per epoch, after ``optimizer.step()``). It counts epochs in ``last_epoch`` (−1 before
construction; the constructor takes the first step, to epoch 0) and remembers each group's
starting rate as ``group["initial_lr"]`` (``base_lrs``).

Like PyTorch, most schedules are computed *recursively* from the group's current lr
(``get_lr``), not from a closed form: ``StepLR`` multiplies by γ at each multiple of
``step_size``, ``CosineAnnealingLR`` multiplies by a ratio of cosines. So a schedule
composes with anything else that changes ``lr`` in between (another scheduler, a manual
edit), and the floating-point values match PyTorch's to the last bit. For reference, the
closed forms are

    StepLR           η_t = η₀ γ^⌊t/s⌋
    MultiStepLR      η_t = η₀ γ^(number of milestones ≤ t)
    ExponentialLR    η_t = η₀ γᵗ
    CosineAnnealing  η_t = η_min + (η₀ − η_min)(1 + cos(π t / T_max)) / 2
    LambdaLR         η_t = η₀ λ(t)
    LinearLR         η_t = η₀ (f₀ + (f₁ − f₀) min(t, T) / T)
    ConstantLR       η_t = η₀ (f if t < T else 1)
    MultiplicativeLR η_t = η_{t−1} λ(t)
    PolynomialLR     η_t = η₀ (1 − min(t, T)/T)^p

(``OneCycleLR`` and ``ReduceLROnPlateau`` are explained in their classes.) Constructing a
scheduler wraps the optimizer instance's ``step`` so that a call is recorded, as PyTorch
does, to warn when ``scheduler.step()`` comes first; that works for a user's Optimizer
subclass with its own ``step`` too.

and the cosine recursion follows from the closed form's ratio between t − 1 and t:
``η_t = η_min + (η_{t−1} − η_min)(1 + cos(πt/T)) / (1 + cos(π(t−1)/T))``.
"""
from .base import LRScheduler
from .rules import (LambdaLR, StepLR, MultiStepLR, ExponentialLR, LinearLR, CosineAnnealingLR,
                    ConstantLR, MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts)
from .composite import SequentialLR, ChainedScheduler, ReduceLROnPlateau, OneCycleLR

_LRScheduler = LRScheduler   # PyTorch's old name

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
           "CosineAnnealingLR", "ConstantLR", "MultiplicativeLR", "PolynomialLR",
           "CosineAnnealingWarmRestarts", "SequentialLR", "ChainedScheduler",
           "ReduceLROnPlateau", "OneCycleLR"]
