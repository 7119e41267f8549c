"""``python -m minigrad COMMAND``: a launcher for the console script ``minigrad``.

The commands (train, eval, sample, demo, textbook) live in the application layer,
``minigrad_models.cli``, which sits above the library; this file runs only as a script, so
``import minigrad`` never loads it.
"""
import sys

if __name__ == "__main__":
    from minigrad_models.cli import main
    sys.exit(main())
