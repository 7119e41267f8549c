"""``python -m minigrad.textbook [--item KEY ...] [--derivation] [--markdown]``: print the
worked items (printed form, error, the printed form evaluated, max |hand − autograd|), or
the documentation page built from them."""
import argparse
import sys

from . import ITEMS, run_all, to_markdown


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigrad.textbook", description=__doc__)
    parser.add_argument("--item", action="append", choices=list(ITEMS), metavar="KEY",
                        help=f"run only this item (repeatable): {', '.join(ITEMS)}")
    parser.add_argument("--derivation", action="store_true",
                        help="print each item's correct derivation too")
    parser.add_argument("--markdown", action="store_true",
                        help="print docs/textbook.md (generated from the items) and exit")
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(to_markdown())
        return 0
    try:
        worst = run_all(derivation=args.derivation, keys=args.item)
    except AssertionError as e:            # a hand gradient disagreed with autograd
        print(f"minigrad.textbook: {e}", file=sys.stderr)
        return 1
    print("max |hand − autograd| per item: "
          + ", ".join(f"{key} {diff:.1e}" for key, diff in worst.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
