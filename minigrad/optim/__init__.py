"""minigrad.optim: optimizers (``SGD Adam AdamW RMSprop Adadelta
Adagrad Adamax NAdam RAdam LBFGS``) over parameter groups, and
learning-rate schedules in ``optim.lr_scheduler``, with PyTorch's update rules, defaults,
error messages and ``state_dict`` layout.

Reading order: ``optimizer.py`` (groups, state, persistence), ``sgd.py``, ``adam.py`` (with
the derivation of bias correction), ``rmsprop.py``, ``adadelta.py``,
``adagrad.py``, ``adam_variants.py``, ``lbfgs.py`` (closure-driven quasi-Newton), ``lr_scheduler.py``.
"""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam_variants import Adamax, NAdam, RAdam
from .lbfgs import LBFGS
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad", "Adamax",
           "NAdam", "RAdam", "LBFGS",
           "lr_scheduler"]
