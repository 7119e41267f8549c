"""Optimised GPU kernels (numba.cuda or CuPy RawKernel); they take CuPy arrays (backend
``"cuda"``).

Today: ``matmul`` (tiled SGEMM), ``softmax``/``log_softmax``,
``layer_norm_forward``/``layer_norm_backward``, ``flash_attention_forward``/
``flash_attention_backward`` (``attention.py``, factories in ``_flash_kernels.py``),
``cross_entropy_forward``/``_backward`` (plus a fused forward+backward, ``loss.py``),
``gelu``/``gelu_tanh`` and their backwards (``pointwise.py``) and the one-launch Adam/AdamW
``adam_update`` (``optimizer.py``), ``conv2d_forward``/``conv2d_backward_input``/
``conv2d_backward_weight`` (implicit GEMM, ``conv.py``, factories in ``_conv_gemm.py``) and
max/avg pooling forward and backward (``pooling.py``), all float32, written with numba.cuda.
``_launch.py`` holds the shared pieces (simulator detection, shared-memory block
reductions, ``launch_bounds``, launching on CuPy's stream); ``_compile.py`` compiles every
kernel for ``sm_90`` and reports ``ptxas -v`` resources.  The modules import only
``numba.cuda`` at the top and never CuPy: each wrapper allocates with its input's array
module, so under ``NUMBA_ENABLE_CUDASIM=1`` the same wrappers take numpy arrays
(``tests/kernels/test_cuda_kernels.py``), while dispatch still hands this backend only
CuPy arrays, and none at all under the simulator (the backend is switched off there: the
only "CuPy" arrays then are the tests' numpy-backed fake, ``tests/fake_cuda``, which the
references compute).

How to add one:

1. Create the file named like the reference file that holds the kernel's name, e.g.
   ``cuda/attention.py`` for ``"attention_forward"`` (reference in
   ``reference/attention.py``).
2. Import ``numba.cuda`` at the top (a machine without it skips the backend),
   write the kernel as a factory with its tile/block sizes as parameters (so tests in the
   CUDA simulator can use tiny tiles, see ``GPU.md``), and register it::

       from ..catalogue import CATALOGUE

       CATALOGUE.register("attention_forward", "cuda", flash_attention_forward,
                          accepts=contiguous_float32)

   Dispatch only ever hands a "cuda" kernel CuPy arrays, so ``accepts`` checks dtype,
   layout and sizes, never the device.
3. ``tests/kernels/test_parity.py`` then compares it with its reference on drawn cases
   (on CuPy arrays where a GPU is present, on numpy arrays under
   ``NUMBA_ENABLE_CUDASIM=1``, and is skipped otherwise).

Every module in this folder is imported when ``minigrad_kernels`` is; without CuPy or
numba-cuda the whole backend is skipped and the references run.
"""
from ..catalogue import load_backend

LOADED = load_backend(__name__, __path__)

# Under numba's CUDA simulator these kernels are Python programs over numpy arrays, and no
# array the catalogue calls "cupy" is a device array (the only ones there are the tests'
# numpy-backed stand-in for CuPy, tests/fake_cuda): dispatch never hands them this backend,
# so device arrays run the references. Tests call the simulated kernels directly.
from ._launch import SIMULATED  # noqa: E402
from ..catalogue import CATALOGUE  # noqa: E402

if SIMULATED:
    CATALOGUE.enable("cuda", False)
