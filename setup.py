"""minigrad: a from-scratch autograd engine with a PyTorch-subset API."""
from setuptools import setup, find_packages

setup(
    name="minigrad",
    version="0.1.0",
    description="A from-scratch reverse-mode autograd engine over numpy/CuPy with PyTorch's API",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["minigrad", "minigrad.*", "kernels", "kernels.*", "models",
                                    "models.*", "benchmarks", "benchmarks.*"]),
    install_requires=["numpy>=1.26", "numba>=0.59", "tqdm>=4.60", "matplotlib>=3.7"],
    extras_require={
        "gpu": ["cupy-cuda13x>=14", "numba-cuda>=0.20"],
        # torch is the test oracle only; always this exact CPU-wheel pin (a looser spec
        # pulls a multi-GB CUDA build).
        "test": ["pytest>=7", "hypothesis>=6.80", "torch==2.13.0"],
    },
    entry_points={"console_scripts": ["minigrad=minigrad.__main__:main"]},
)
