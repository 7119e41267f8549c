"""How tensors print: ``tensor_str`` lays out the body of ``repr(t)`` as PyTorch's
``torch/_tensor_str.py`` does (column widths, ``1.``/fixed/scientific modes, summarised
long tensors, 80-column wrapping), and ``set_printoptions`` changes its settings (PyTorch's
arguments and profiles). A leaf module: ``tensor.py`` imports it."""
import math

import numpy as np

PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                 "sci_mode": None}

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": float("inf"), "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set the decimals (``precision``), the element count beyond which output is summarised
    with ``...`` (``threshold``, showing ``edgeitems`` at each end), the line width, and
    ``sci_mode`` (None: numpy decides; False: never scientific). A ``profile`` ('default',
    'short', 'full') sets the first four at once; explicit arguments override it."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown print profile {profile!r}; choose from "
                             f"{', '.join(_PROFILES)}")
        PRINT_OPTIONS.update(_PROFILES[profile])
        PRINT_OPTIONS["sci_mode"] = None
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[name] = value
    if sci_mode is not None:
        PRINT_OPTIONS["sci_mode"] = bool(sci_mode)


def get_printoptions():
    return dict(PRINT_OPTIONS)


# ---------------------------------------------------------------------- layout (torch/_tensor_str.py)


def _summarized(values):
    """The edge items PyTorch's formatter looks at when a tensor is summarised."""
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * PRINT_OPTIONS['edgeitems']:
        rows = [*range(PRINT_OPTIONS['edgeitems']), *range(values.shape[0] - PRINT_OPTIONS['edgeitems'], values.shape[0])]
    else:
        rows = range(values.shape[0])
    if values.ndim == 1:
        return values[list(rows)]
    return np.stack([_summarized(values[i]) for i in rows])


class _Formatter:
    """PyTorch's ``_Formatter``: one element width for the whole tensor; floats print as
    ``1.`` when every finite non-zero value is integral, with 4 decimals otherwise, and in
    scientific notation when the finite non-zero magnitudes span more than 1000× (or exceed
    1e8, or, for non-integral values, fall below 1e-4)."""

    def __init__(self, values):
        self.floating = values.dtype.kind in "fV"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return
        flat = flat.astype(np.float64)
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        magnitude = np.abs(finite)
        low, high = magnitude.min(), magnitude.max()
        self.int_mode = bool((finite == np.ceil(finite)).all())
        if self.int_mode:
            self.sci_mode = high / low > 1000.0 or high > 1.0e8
        else:
            self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
        if PRINT_OPTIONS["sci_mode"] is not None:         # set_printoptions(sci_mode=...)
            self.sci_mode = PRINT_OPTIONS["sci_mode"]
        for value in finite.tolist():
            digits = PRINT_OPTIONS["precision"]
            text = (f"{value:.{digits}e}" if self.sci_mode else f"{value:.0f}." if
                    self.int_mode else f"{value:.{digits}f}")
            self.max_width = max(self.max_width, len(text))

    def format(self, value):
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRINT_OPTIONS['precision']}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRINT_OPTIONS['precision']}f}"
        return (self.max_width - len(text)) * " " + text


def _vector_str(values, indent, summarize, formatter):
    per_line = max(1, int(math.floor((PRINT_OPTIONS['linewidth'] - indent) / (formatter.max_width + 2))))
    if summarize and values.shape[0] > 2 * PRINT_OPTIONS['edgeitems']:
        data = ([formatter.format(v) for v in values[:PRINT_OPTIONS['edgeitems']].tolist()] + [" ..."] +
                [formatter.format(v) for v in values[-PRINT_OPTIONS['edgeitems']:].tolist()])
    else:
        data = [formatter.format(v) for v in values.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(values, indent, summarize, formatter):
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector_str(values, indent, summarize, formatter)
    if summarize and values.shape[0] > 2 * PRINT_OPTIONS['edgeitems']:
        rows = [_nested_str(values[i], indent + 1, summarize, formatter) for i in range(PRINT_OPTIONS['edgeitems'])]
        rows += ["..."] + [_nested_str(values[i], indent + 1, summarize, formatter)
                           for i in range(values.shape[0] - PRINT_OPTIONS['edgeitems'], values.shape[0])]
    else:
        rows = [_nested_str(values[i], indent + 1, summarize, formatter)
                for i in range(values.shape[0])]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_str(values, indent):
    """The body of ``repr(t)`` laid out as PyTorch's ``_tensor_str`` lays it out."""
    if values.size == 0:
        return "[]"
    summarize = values.size > PRINT_OPTIONS['threshold']
    if values.dtype.itemsize == 2 and values.dtype.kind in "fV":   # float16, bfloat16
        values = values.astype(np.float32)
    formatter = _Formatter(_summarized(values) if summarize else values)
    return _nested_str(values, indent, summarize, formatter)
