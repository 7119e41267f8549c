"""The default process group: ``init_process_group`` / ``destroy_process_group`` and the
questions about it (``is_initialized``, ``get_rank``, ``get_world_size``, ``get_backend``).

minigrad has one group, the world (``group=None`` or ``group.WORLD`` everywhere), built on
an existing engine: ``"mpi"`` (mpi4py; CPU tensors) or ``"nccl"`` (``cupy.cuda.nccl``;
CUDA tensors). Rank and world size come from the arguments, else the launcher's
environment: ``RANK``/``WORLD_SIZE`` (torchrun's), ``OMPI_COMM_WORLD_RANK``/``_SIZE``
(Open MPI's mpirun), ``PMI_RANK``/``PMI_SIZE`` (MPICH's). With ``"mpi"``, MPI itself is
the authority and a disagreeing argument is a ValueError.
"""
import datetime
import os

from .mpi_backend import MPIBackend, mpi_available
from .nccl_backend import NCCLBackend

__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "is_available",
           "is_mpi_available", "is_nccl_available", "get_rank", "get_world_size",
           "get_backend", "default_backend", "group", "GroupMember", "Backend",
           "default_pg_timeout"]

#: PyTorch's default timeout for a collective (``torch.distributed.default_pg_timeout``).
default_pg_timeout = datetime.timedelta(minutes=30)

_state = {"backend": None}


class Backend(str):
    """``Backend("mpi")``: a backend name, lower-cased and checked (PyTorch's class)."""
    MPI = "mpi"
    NCCL = "nccl"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, got {name!r}")
        value = name.lower()
        if value not in (cls.MPI, cls.NCCL):
            raise ValueError(f"Invalid backend: '{name}' (minigrad has 'mpi' and 'nccl')")
        return super().__new__(cls, value)


class _World:
    """The one group minigrad has (``group.WORLD``)."""

    def __repr__(self):
        return "<minigrad.distributed group WORLD>"


class group:   # noqa: N801 -- PyTorch's name (``torch.distributed.group.WORLD``)
    WORLD = _World()


GroupMember = group


def is_available():
    """True: the package is always importable (the engines are checked at init)."""
    return True


def is_mpi_available():
    return mpi_available()


def is_nccl_available():
    try:
        from cupy.cuda import nccl  # noqa: F401
    except ImportError:
        return False
    return True


def is_initialized():
    return _state["backend"] is not None


def default_backend():
    """The default group's backend object; ValueError (PyTorch's) before init."""
    backend = _state["backend"]
    if backend is None:
        raise ValueError("Default process group has not been initialized, please make sure "
                         "to call init_process_group.")
    return backend


def check_group(group_arg):
    """The backend a ``group=`` argument means (only the world exists)."""
    if group_arg is not None and group_arg is not group.WORLD:
        raise ValueError(f"minigrad.distributed has only the default group (group=None or "
                         f"group.WORLD), got {group_arg!r}")
    return default_backend()


def get_rank(group=None):
    return check_group(group).rank


def get_world_size(group=None):
    return check_group(group).size


def get_backend(group=None):
    return check_group(group).name


def _env_int(*names):
    for name in names:
        if os.environ.get(name, "") != "":
            return int(os.environ[name])
    return None


def launcher_rank():
    return _env_int("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")


def launcher_world_size():
    return _env_int("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")


def launcher_local_rank():
    return _env_int("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID") or 0


def _seconds(timeout):
    if timeout is None:
        return default_pg_timeout.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    raise TypeError(f"timeout must be a datetime.timedelta, got {type(timeout).__name__}")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Start the default group on ``backend`` ("mpi" or "nccl"; None picks "mpi").
    ``init_method`` may be None or ``"env://"`` (both read the launcher's environment, see
    the module docstring); ``store`` is not supported (the engines bring their own
    rendezvous). ``timeout``: how long any collective may wait for the other ranks."""
    if is_initialized():
        raise ValueError("trying to initialize the default process group twice!")
    if init_method not in (None, "env://"):
        raise ValueError(f"minigrad.distributed supports init_method=None or 'env://' (the "
                         f"launcher's environment), got {init_method!r}")
    if store is not None:
        raise ValueError("minigrad.distributed takes no store: mpirun (MPI) does the rendezvous")
    name = Backend(backend or Backend.MPI)
    seconds = _seconds(timeout)
    rank = rank if rank is not None and rank >= 0 else launcher_rank()
    world_size = world_size if world_size is not None and world_size >= 0 \
        else launcher_world_size()
    if not mpi_available():
        raise RuntimeError(f"the {name!r} backend needs mpi4py and an MPI library: "
                           "pip install 'minigrad[dist]'")
    if name == Backend.MPI:
        engine = MPIBackend(seconds)
        for what, given, actual in (("rank", rank, engine.rank),
                                    ("world_size", world_size, engine.size)):
            if given is not None and given != actual:
                raise ValueError(f"init_process_group: {what}={given} but MPI says {actual} "
                                 "(start the processes with mpirun -n WORLD_SIZE)")
    else:
        if not is_nccl_available():
            raise RuntimeError("the 'nccl' backend needs CuPy with NCCL (cupy.cuda.nccl)")
        if rank is None or world_size is None:
            raise ValueError("the 'nccl' backend needs rank and world_size (arguments, or "
                             "mpirun's environment)")
        engine = NCCLBackend(rank, world_size, launcher_local_rank(), seconds)
    _state["backend"] = engine


def destroy_process_group(group=None):
    """Tear the default group down (its communicator is freed; MPI stays initialised until
    the process exits, as mpi4py finalises it then)."""
    backend = check_group(group)
    backend.close()
    _state["backend"] = None
