"""``python -m minigrad <command>``: the command-line entry point.

Commands: ``demo`` trains the seed-000 two-layer sigmoid network on MNIST with raw tensor
ops and prints its test accuracy.
"""
import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"demo": "minigrad.demo"}
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        if argv and argv[0] not in ("-h", "--help"):
            print(f"minigrad: unknown command {argv[0]!r} (choose from {', '.join(commands)})",
                  file=sys.stderr)
            return 2
        print(__doc__.strip())
        return 0
    import importlib
    try:
        importlib.import_module(commands[argv[0]]).main(argv[1:])
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except RuntimeError as e:  # data missing, bad device: one line, no traceback
        print(f"minigrad: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
