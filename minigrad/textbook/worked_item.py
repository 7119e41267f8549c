"""What every worked item of the textbook provides, and how a hand gradient is compared.

A worked item takes one formula the seed documents print, and sets four things side by side:

    printed      the formula exactly as the seed prints it (its section: docs/seeds.md)
    error        what is wrong with it, in a sentence or two per mistake
    derivation   the correct derivation, step by step
    check()      the hand-derived gradient computed in numpy, asserted equal to what
                 minigrad's autograd computes for the same expression (float64)

plus ``printed_form()``, which evaluates the printed form on the same numbers and reports,
as one line, how far it is from the truth (a loss that goes up, a gradient that differs, a
product whose shape does not fit), and ``example``, a snippet a reader can paste.

``check()`` returns ``{quantity: max |hand − autograd|}``; it raises ``AssertionError`` when a
quantity is off by more than the tolerance, so a test need only call it.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

import minigrad as mg

# float64 hand arithmetic against float64 autograd: both evaluate the same formulas in a
# different order, so they agree to a few ulps of the largest entry.
ATOL = 1e-12
RTOL = 1e-10


@dataclass(frozen=True)
class WorkedItem:
    key: str                                  # the module name, e.g. "dense_delta_rule"
    title: str
    source: str                               # seed and section, e.g. "seed 000 §4.2.2"
    printed: str
    error: str
    derivation: str
    example: str                              # a runnable Python snippet
    check: Callable[[], dict]                 # {quantity: max |hand − autograd|}
    printed_form: Callable[[], str]           # one line: how the printed form goes wrong


def as_array(t):
    """A Tensor (or array-like) as a float64 numpy array: a copy, detached from any graph
    and from later in-place updates (an optimizer's step)."""
    if isinstance(t, mg.Tensor):
        return np.array(t.detach().numpy(), dtype=np.float64)
    return np.array(t, dtype=np.float64)


def leaf(array):
    """A float64 minigrad leaf that requires grad, holding a copy of ``array``."""
    return mg.tensor(np.array(array, dtype=np.float64), requires_grad=True)


def max_abs_diff(a, b):
    a, b = as_array(a), as_array(b)
    if a.shape != b.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def assert_matches(name, hand, autograd, atol=ATOL, rtol=RTOL):
    """max |hand − autograd|, after asserting it is within atol + rtol·max|autograd|."""
    diff = max_abs_diff(hand, autograd)
    scale = float(np.max(np.abs(as_array(autograd)))) if as_array(autograd).size else 0.0
    if not diff <= atol + rtol * scale:
        raise AssertionError(f"{name}: hand-derived and autograd differ by {diff:.3e} "
                             f"(tolerance {atol + rtol * scale:.1e})")
    return diff


def sigmoid(z):
    """σ(z) = 1/(1 + e^−z), evaluated without overflow for either sign of z."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def rng(seed=0):
    return np.random.default_rng(seed)
