"""Sliding-window geometry shared by convolution and pooling.

A 2-D window op sees the input through ``kh×kw`` windows whose taps are ``dilation``
apart, placed every ``stride`` pixels over the input zero-padded by ``padding`` on each
side.  Along one axis of size ``H`` (padding ``p``, kernel ``k``, stride ``s``, dilation
``d``) output position ``o`` reads padded coordinates

    o·s + i·d,   i = 0 … k−1          (input coordinate o·s + i·d − p)

and the number of outputs is

    floor((H + 2p − d(k−1) − 1) / s) + 1                       (floor mode)
    ceil ((H + 2p − d(k−1) − 1) / s) + 1, minus one if the     (ceil mode, PyTorch)
        last window would start at or beyond H + p.

``gather_windows`` and ``scatter_windows`` are adjoint: gather copies every window tap
into its own slot; scatter sums slots back onto the pixels they came from.  Both loop
over the kh·kw kernel taps (a handful), never over pixels.  im2col, col2im, pooling and
their backwards are all built from these two.
"""
from ..catalogue import get_array_module


def output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """Number of window positions along one axis (PyTorch's ``pooling_output_shape`` rule)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        raise ValueError(f"window of {kernel} taps with dilation {dilation} does not fit "
                         f"in size {size} with padding {padding}")
    if ceil_mode:
        out = -(-span // stride) + 1
        # PyTorch drops a last window that would start entirely in the right padding.
        if (out - 1) * stride >= size + padding:
            out -= 1
    else:
        out = span // stride + 1
    return out


def output_shape(x_shape, kernel_size, stride, padding, dilation=(1, 1), ceil_mode=False):
    """``(OH, OW)`` for an input of shape ``(..., H, W)``."""
    return tuple(output_size(x_shape[-2 + a], kernel_size[a], stride[a], padding[a],
                             dilation[a], ceil_mode) for a in range(2))


def padded_extent(out, kernel, stride, dilation):
    """Padded length the windows actually read: last start + window span."""
    return (out - 1) * stride + dilation * (kernel - 1) + 1


def pad_for_windows(x, out_hw, kernel_size, stride, padding, dilation, value=0):
    """Pad ``x (N, C, H, W)`` by ``padding`` on the top/left and as much as the windows need
    on the bottom/right (``padding``, or more in ceil mode, or less when the stride leaves
    rows unread), filling with ``value``.  Returns ``(N, C, Hp, Wp)``.
    """
    xp = get_array_module(x)
    n, c, h, w = x.shape
    hp = padded_extent(out_hw[0], kernel_size[0], stride[0], dilation[0])
    wp = padded_extent(out_hw[1], kernel_size[1], stride[1], dilation[1])
    padded = xp.full((n, c, max(hp, padding[0] + h), max(wp, padding[1] + w)), value, dtype=x.dtype)
    padded[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w] = x
    return padded[:, :, :hp, :wp]


def gather_windows(padded, out_hw, kernel_size, stride, dilation):
    """Copy every window tap into its own slot.

    ``padded (N, C, Hp, Wp) -> windows (N, C, kh, kw, OH, OW)`` with
    ``windows[n, c, i, j, oh, ow] = padded[n, c, oh·sh + i·dh, ow·sw + j·dw]``.

    As in ``scatter_windows`` the loop runs over the kh·kw taps, each copying one strided
    slice (all pixels at once).  A single fancy-indexing gather would do the same but
    numpy lays its result out index-dims-first, so the reshape im2col needs would copy
    everything a second time (≈10× slower at ResNet sizes).
    """
    xp = get_array_module(padded)
    n, c = padded.shape[:2]
    (kh, kw), (oh, ow) = kernel_size, out_hw
    windows = xp.empty((n, c, kh, kw, oh, ow), dtype=padded.dtype)
    for i in range(kh):
        top = i * dilation[0]
        for j in range(kw):
            left = j * dilation[1]
            windows[:, :, i, j] = padded[:, :, top:top + (oh - 1) * stride[0] + 1:stride[0],
                                         left:left + (ow - 1) * stride[1] + 1:stride[1]]
    return windows


def scatter_windows(windows, padded_hw, stride, dilation):
    """Adjoint of ``gather_windows``: sum every slot back onto the pixel it was read from.

    ``windows (N, C, kh, kw, OH, OW) -> padded (N, C, Hp, Wp)`` with
    ``padded[n, c, y, x] = Σ_{oh·sh+i·dh = y, ow·sw+j·dw = x} windows[n, c, i, j, oh, ow]``.

    The loop runs over the kh·kw kernel taps, not over pixels: for a fixed tap the
    output positions hit distinct pixels (a strided slice), so ``+=`` on the slice is an
    exact scatter-add; overlaps between taps are summed by successive iterations.
    """
    xp = get_array_module(windows)
    n, c, kh, kw, oh, ow = windows.shape
    padded = xp.zeros((n, c) + tuple(padded_hw), dtype=windows.dtype)
    for i in range(kh):
        top = i * dilation[0]
        for j in range(kw):
            left = j * dilation[1]
            padded[:, :, top:top + (oh - 1) * stride[0] + 1:stride[0],
                   left:left + (ow - 1) * stride[1] + 1:stride[1]] += windows[:, :, i, j]
    return padded


def crop_padding(padded, x_shape, padding):
    """Cut the ``(N, C, H, W)`` input region out of a padded gradient, zero-filling rows
    the windows never read (when the stride skips the tail of the input)."""
    xp = get_array_module(padded)
    h, w = x_shape[-2:]
    top, left = padding
    region = padded[:, :, top:top + h, left:left + w]
    if region.shape[-2:] == (h, w):
        return xp.ascontiguousarray(region)
    out = xp.zeros(tuple(x_shape), dtype=padded.dtype)
    out[:, :, :region.shape[2], :region.shape[3]] = region
    return out
