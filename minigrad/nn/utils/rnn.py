"""Variable-length sequences for the recurrent layers (``torch.nn.utils.rnn``).

A batch of B sequences of lengths l_0 ≥ l_1 ≥ … (sorted longest first) is *packed*
time-major without padding: ``data`` holds step 0 of every sequence, then step 1 of the
sequences longer than 1, and so on, and ``batch_sizes[t]`` = #{b : l_b > t} says how many
rows belong to step t. A recurrent layer then runs step t on the first batch_sizes[t]
rows only, so padding never enters a hidden state and h_n is each sequence's state at its
own last step. ``sorted_indices`` (the permutation that sorted an unsorted batch, or None)
and ``unsorted_indices`` (its inverse) let results come back in the caller's order.

Every conversion here is a gather of rows (``index_select``) from the input (plus, for
padding, one row holding ``padding_value``), so gradients flow back to the padded or
packed tensor unchanged.
"""
from typing import NamedTuple

import numpy as np

from ... import creation
from ...ops.indexing import index_select
from ...ops.joining import cat
from ...tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation"]


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor = None
    unsorted_indices: Tensor = None


class PackedSequence(_PackedSequenceFields):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)`` (see the module
    docstring); build it with ``pack_padded_sequence`` or ``pack_sequence``."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        """``data`` converted as ``Tensor.to``; indices follow its device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        move = (lambda t: None if t is None else t.to(device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self._with_data(self.data.cuda(device))

    def double(self):
        return self._with_data(self.data.double())

    def float(self):
        return self._with_data(self.data.float())

    def half(self):
        return self._with_data(self.data.half())

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The inverse permutation (``inverse[permutation[i]] = i``), or None."""
    if permutation is None:
        return None
    perm = np.asarray(permutation.tolist(), dtype=np.int64)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    return creation.tensor(inverse, device=permutation.device)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.ndim}D {lengths.device} {lengths.dtype} tensor")
        return np.asarray(lengths.tolist(), dtype=np.int64)
    return np.asarray(list(lengths), dtype=np.int64)


def _batch_sizes(lengths):
    """batch_sizes[t] = #{b : lengths[b] > t} for lengths sorted longest first."""
    return np.array([(lengths > t).sum() for t in range(int(lengths[0]))], dtype=np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) whose b-th sequence has
    ``lengths[b]`` valid steps. With ``enforce_sorted`` the lengths must be decreasing;
    otherwise the batch is sorted here and the permutation kept."""
    lengths = _lengths_array(lengths)
    if batch_first:
        input = input.transpose(0, 1)
    if lengths.size != input.shape[1]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={input.shape[1]})")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = creation.tensor(order, device=input.device)
        input = index_select(input, 1, sorted_indices)
    if lengths[0] > input.shape[0]:
        raise RuntimeError(f"Expected sequence length to be at most {input.shape[0]} (the "
                           f"input's), but got a length of {lengths[0]}")
    batch_sizes = _batch_sizes(lengths)
    batch = input.shape[1]
    rows = np.concatenate([t * batch + np.arange(b) for t, b in enumerate(batch_sizes)])
    flat = input.reshape((input.shape[0] * batch,) + tuple(input.shape[2:]))
    data = index_select(flat, 0, creation.tensor(rows, device=input.device))
    return PackedSequence(data, creation.tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: (padded (T, B, *) or (B, T, *), lengths), in
    the original batch order; T = the longest length, or ``total_length``."""
    data, batch_sizes = sequence.data, np.asarray(sequence.batch_sizes.tolist(), dtype=np.int64)
    max_length = batch_sizes.size
    if total_length is not None:
        if total_length < max_length:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_length}")
        max_length = total_length
    batch = int(batch_sizes[0])
    lengths = np.array([(batch_sizes > b).sum() for b in range(batch)], dtype=np.int64)
    pad_row = data.shape[0]
    source = np.full((max_length, batch), pad_row, dtype=np.int64)
    offset = 0
    for t, b in enumerate(batch_sizes):
        source[t, :b] = np.arange(offset, offset + b)
        offset += b
    rest = tuple(data.shape[1:])
    padding = creation.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    padded = index_select(cat([data, padding], 0), 0,
                          creation.tensor(source.reshape(-1), device=data.device))
    padded = padded.reshape((max_length, batch) + rest)
    lengths_tensor = creation.tensor(lengths)
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 1, sequence.unsorted_indices)
        lengths_tensor = creation.tensor(lengths[np.asarray(sequence.unsorted_indices.tolist(),
                                                            dtype=np.int64)])
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths_tensor


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors (L_i, *) into (max L, B, *) (``batch_first``: (B, max L, *)), padding
    each with ``padding_value`` after its end (``padding_side='left'``: before its start)."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    lengths = [s.shape[0] for s in sequences]
    rest = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != rest:
            raise RuntimeError(f"The size of tensor a ({rest}) must match the size of tensor b "
                               f"({tuple(s.shape[1:])}) at non-singleton dimensions")
    first = sequences[0]
    total, longest = sum(lengths), max(lengths)
    source = np.full((longest, len(sequences)), total, dtype=np.int64)
    offset = 0
    for b, length in enumerate(lengths):
        start = 0 if padding_side == "right" else longest - length
        source[start:start + length, b] = np.arange(offset, offset + length)
        offset += length
    padding = creation.full((1,) + rest, padding_value, dtype=first.dtype, device=first.device)
    padded = index_select(cat(sequences + [padding], 0), 0,
                          creation.tensor(source.reshape(-1), device=first.device))
    padded = padded.reshape((longest, len(sequences)) + rest)
    return padded.transpose(0, 1) if batch_first else padded


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *) (longest first unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences ``padded[:lengths[b], b]`` (inverse of ``pad_sequence``)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b][:int(length)]
            for b, length in enumerate(_lengths_array(lengths))]


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds (inverse of ``pack_sequence``)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
