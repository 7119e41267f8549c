"""einsum: sums of products over labelled axes (``einsum('bij,bjk->bik', a, b)``).

The public ``einsum`` parses PyTorch's equation (or its sublist form), and reduces every
case to one canonical contraction: each operand labelled by distinct-or-repeated letters,
no ellipsis (``...`` becomes fresh letters, right-aligned), and every label of one size
(a size-1 axis that broadcasts against a larger one is squeezed out of its operand first,
with the differentiable ``reshape``, so its gradient is summed back by reshape's VJP).

``Einsum`` is that contraction: z = einsum(s₁,…,sₙ → o; x₁,…,xₙ). Its VJP for operand k is
again an einsum, with the output's and the other operands' subscripts as inputs and
xₖ's subscripts as output:

    dxₖ = einsum(o, s₁,…,sₖ₋₁,sₖ₊₁,…,sₙ → sₖ;  dz, x₁,…,xₖ₋₁,xₖ₊₁,…,xₙ)

with two constants added where an einsum output cannot say it: a label that sₖ repeats
(a diagonal, ``ii``) is renamed in the output and tied by an identity matrix δ, and a label
found only in sₖ (summed inside xₖ alone) gets a vector of ones, which broadcasts dz along
it. Because the VJP is an ``Einsum`` node too, higher derivatives work.
"""
import string

from .. import dtypes
from ..dtypes import scalar_type_name
from ..tensor import Tensor
from ..autograd.function import Function
from .operands import check_same_device, check_tensor
from .shape import reshape
from ..amp.autocast_mode import autocast_op

__all__ = ["einsum"]

LETTERS = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's sublist order


class Einsum(Function):
    """z = einsum(``inputs`` → ``output``; x₁, …, xₙ), subscripts as lists of letters with
    all sizes of one label equal.   dxₖ = einsum(o, sⱼ (j ≠ k), δ, 1 → sₖ; dz, xⱼ, δ, 1)
    (see the module docstring); shapes: dxₖ has xₖ's shape."""

    def forward(self, inputs, output, *operands):
        self.inputs, self.output = inputs, output
        self.save_for_backward(*operands)
        xp = operands[0].xp
        equation = ",".join("".join(s) for s in inputs) + "->" + "".join(output)
        arrays = [x.array for x in operands]
        half = arrays[0].dtype
        if half.itemsize == 2 and half.kind in "fV":   # float16/bfloat16: float32 sums
            out = xp.einsum(equation, *[a.astype(xp.float32) for a in arrays],
                            optimize=len(operands) > 1)
            return xp.asarray(out).astype(half)
        return xp.asarray(xp.einsum(equation, *arrays, optimize=len(operands) > 1))

    def backward(self, dz):
        operands = self.saved_tensors
        sizes = {label: n for subs, x in zip(self.inputs, operands)
                 for label, n in zip(subs, x.shape)}
        grads = []
        for k, target in enumerate(self.inputs):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            subs = [self.output] + [s for j, s in enumerate(self.inputs) if j != k]
            tensors = [dz] + [x for j, x in enumerate(operands) if j != k]
            free = [c for c in LETTERS if c not in sizes]
            out, seen = [], set()
            for label in target:
                if label in seen:  # a repeated label: a new name tied to it by δ
                    fresh = free.pop()
                    out.append(fresh)
                    subs.append([label, fresh])
                    tensors.append(_constant(dz, "eye", sizes[label]))
                else:
                    seen.add(label)
                    out.append(label)
            present = {label for s in subs for label in s}
            for label in seen - present:  # summed inside xₖ only: dz is constant along it
                subs.append([label])
                tensors.append(_constant(dz, "ones", sizes[label]))
            grads.append(Einsum.apply(subs, out, *tensors))
        return tuple(grads)


def _constant(like, kind, n):
    xp = like.xp
    array = xp.eye(n, dtype=like.dtype) if kind == "eye" else xp.ones(n, dtype=like.dtype)
    return Tensor._wrap(array)


# ---------------------------------------------------------------------- parsing
def _parse_term(term, where):
    """A term of the equation as a list of labels, with "..." kept as one entry."""
    labels, i = [], 0
    while i < len(term):
        if term.startswith("...", i):
            if "..." in labels:
                raise RuntimeError("einsum(): found '.' for operand 0 for which an ellipsis "
                                   "was already found")
            labels.append("...")
            i += 3
        elif term[i] in LETTERS:
            labels.append(term[i])
            i += 1
        else:
            raise RuntimeError(f"einsum(): invalid subscript given at index {where + i} in the "
                               f"equation string, subscripts must be in [a-zA-Z]")
    return labels


def _parse(equation, count):
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms, position = [], 0
    for term in lhs.split(","):
        terms.append(_parse_term(term, position))
        position += len(term) + 1
    if len(terms) > count:
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < count:
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    if arrow:
        output = _parse_term(rhs, len(lhs) + 2)
        seen = set()
        for label in output:
            if label in seen:
                raise RuntimeError(f"einsum(): output subscript {label} appears more than once "
                                   f"in the output")
            seen.add(label)
            if label != "..." and not any(label in t for t in terms):
                raise RuntimeError(f"einsum(): output subscript {label} does not appear in the "
                                   f"equation for any input operand")
    else:  # implicit output: "..." first, then the labels seen once, in ASCII order
        flat = [label for t in terms for label in t if label != "..."]
        output = (["..."] if any("..." in t for t in terms) else []) + sorted(
            label for label in set(flat) if flat.count(label) == 1)
    return terms, output


def _from_sublists(args):
    """PyTorch's sublist form ``einsum(x, [0, 1], y, [1, 2], [0, 2])`` as an equation."""
    def term(sublist):
        return "".join("..." if s is Ellipsis else LETTERS[s] for s in sublist)
    pairs = len(args) // 2
    operands = tuple(args[0:2 * pairs:2])
    equation = ",".join(term(s) for s in args[1:2 * pairs:2])
    if len(args) % 2:
        equation += "->" + term(args[-1])
    return equation, operands


# ---------------------------------------------------------------------- public
@autocast_op("einsum")
def einsum(equation, *operands):
    """Sum of products of ``operands`` over the labels of ``equation`` (PyTorch's rules:
    implicit output = the labels used once, in ASCII order; ``...`` broadcasts; a repeated
    label takes a diagonal; sizes of one label broadcast). Operands may also be given as one
    list, or in the sublist form ``einsum(x, [0, 1], y, [1, 2], [0, 2])``."""
    if isinstance(equation, Tensor):
        equation, operands = _from_sublists((equation,) + operands)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not "
                        f"{type(equation).__name__}")
    for i, x in enumerate(operands):
        check_tensor(x, "einsum", f"operands[{i}]")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    check_same_device(operands, "einsum")
    for x in operands[1:]:
        if x.dtype != operands[0].dtype:
            raise RuntimeError(f"expected scalar type {scalar_type_name(operands[0].dtype)} but "
                               f"found {scalar_type_name(x.dtype)}")
    terms, output = _parse(equation, len(operands))

    # "..." → fresh letters, right-aligned across operands (numpy broadcasting).
    ellipsis_dims = 0
    for i, (term, x) in enumerate(zip(terms, operands)):
        named = len(term) - ("..." in term)
        if "..." not in term and named != x.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does "
                               f"not match the number of dimensions ({x.ndim}) for operand {i} and "
                               f"no ellipsis was given")
        if "..." in term and named > x.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is "
                               f"more than the number of dimensions ({x.ndim}) for operand {i}")
        ellipsis_dims = max(ellipsis_dims, x.ndim - named if "..." in term else 0)
    used = {label for t in terms for label in t}
    spare = [c for c in LETTERS if c not in used]
    if len(spare) < ellipsis_dims:
        raise RuntimeError("einsum(): too many dimensions for the 52 subscript letters")
    broadcast = spare[:ellipsis_dims]

    def expand(term, ndim):
        if "..." not in term:
            return list(term)
        i = term.index("...")
        count = ndim - (len(term) - 1)
        return term[:i] + broadcast[ellipsis_dims - count:] + term[i + 1:]

    terms = [expand(t, x.ndim) for t, x in zip(terms, operands)]
    output = expand(output, len(output) - 1 + ellipsis_dims) if "..." in output else output

    # Sizes: equal, or 1 broadcasting against n (that axis is squeezed out of its operand).
    sizes = {}
    for i, (term, x) in enumerate(zip(terms, operands)):
        own = {}
        for label, n in zip(term, x.shape):
            if label in own and own[label] != n:
                raise RuntimeError(f"einsum(): subscript {label} is repeated for operand {i} but "
                                   f"the sizes don't match, {n} != {own[label]}")
            own[label] = n
            if label in sizes and n != sizes[label] and 1 not in (n, sizes[label]):
                raise RuntimeError(f"einsum(): subscript {label} has size {n} for operand {i} "
                                   f"which does not broadcast with previously seen size "
                                   f"{sizes[label]}")
            sizes[label] = n if label not in sizes or sizes[label] == 1 else sizes[label]
    summed = set(sizes) - set(output)
    if summed and operands[0].dtype.kind in "biu":
        if len(operands) == 1:  # a pure reduction sums integers and bools in int64, as sum()
            operands = (operands[0].to(dtypes.int64),)
        elif operands[0].dtype.kind == "b":
            raise NotImplementedError(f"\"bmm\" not implemented for 'Bool' (einsum "
                                      f"'{equation}' contracts bool operands)")
    prepared_terms, prepared = [], []
    for term, x in zip(terms, operands):
        keep = [j for j, (label, n) in enumerate(zip(term, x.shape))
                if not (n == 1 and sizes[label] != 1)]
        if len(keep) != len(term):
            x = reshape(x, tuple(x.shape[j] for j in keep))
            term = [term[j] for j in keep]
        prepared_terms.append(term)
        prepared.append(x)
    # An output label whose every occurrence was squeezed keeps size 1.
    missing = [label for label in output if not any(label in t for t in prepared_terms)]
    if missing:
        shape = tuple(sizes[label] for label in missing)
        prepared_terms.append(missing)
        prepared.append(Tensor._wrap(prepared[0].xp.ones(shape, dtype=prepared[0].dtype)))
    return Einsum.apply(prepared_terms, output, *prepared)

