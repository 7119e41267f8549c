"""``default_collate``: a list of samples → one batch (``torch.utils.data.default_collate``)."""
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from ... import creation, dtypes
from ...ops.joining import stack
from ...tensor import Tensor


def default_collate(batch):
    """Stack a list of samples into a batch, recursing into their structure:

    tensors → ``stack`` (a new leading dim); numpy arrays → the same, as tensors; Python
    floats → float64 tensor, ints → int64, bools → bool (PyTorch's rules); numpy scalars
    keep their dtype; strings → the list itself; dicts → dict of collated values; tuples
    and lists → a list of collated fields (namedtuples stay namedtuples).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found numpy array of dtype {elem.dtype}")
        return creation.tensor(np.stack(batch))
    if isinstance(elem, (np.number, np.bool_)):
        return creation.tensor(np.array(batch))
    if isinstance(elem, float):
        return creation.tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, numbers.Integral):
        return creation.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem)}")
