"""``set_printoptions``: how tensors print (PyTorch's arguments and profiles)."""
from .tensor import PRINT_OPTIONS

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
