"""``ReduceOp`` (``torch.distributed.ReduceOp``): how a collective combines the ranks'
tensors, and its numpy/CuPy reference (``combine``) used by the backends that need it."""
import enum

__all__ = ["ReduceOp"]


class ReduceOp(enum.Enum):
    """SUM, AVG (the sum divided by the world size), PRODUCT, MIN, MAX, as PyTorch's."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


def check_op(op):
    """``op`` as a ReduceOp; TypeError naming it otherwise."""
    if isinstance(op, ReduceOp):
        return op
    raise TypeError(f"op must be a torch.distributed.ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), "
                    f"got {op!r}")


def divide_in_place(xp, array, size):
    """AVG's last step, ``array /= size`` (floor division for integers, as NCCL's)."""
    if array.dtype.kind in "fV":        # 'V': bfloat16 (ml_dtypes)
        xp.divide(array, size, out=array)
    else:
        xp.floor_divide(array, size, out=array)
