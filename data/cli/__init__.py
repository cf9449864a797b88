"""`python -m data COMMAND`: each command is a module here with `add_arguments(p)` and `run(args)`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMANDS = {  # name -> (module, one-line help)
    "validate": ("data.cli.validate", "check entries, held-out questions, scenario and dialogues"),
    "import": ("data.cli.import_file", "add or update knowledge entries from a CSV, JSONL or MedQuAD file"),
    "export": ("data.cli.export", "write the knowledge base back as data/qa-style JSONL files"),
    "stats": ("data.cli.stats", "counts, lengths, top n-grams and a word cloud"),
    "build": ("data.cli.build", "train/validation/test dialogue splits as Hugging Face datasets"),
    "retrieval": ("data.cli.retrieval", "retrieval accuracy on the held-out questions (and calibration)"),
    "encoder": ("data.cli.encoder", "MiniLM's retrieval adapter: show it, or --train it again (TensorFlow)"),
    "vectors": ("data.cli.vectors", "ship MiniLM vectors of the curated texts (fast start-up)"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data", description="Ariane's data tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    args, rest = parser.parse_known_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    module_name, help_ = COMMANDS[args.command]
    module = importlib.import_module(module_name)  # only the chosen command's imports are paid for
    p = argparse.ArgumentParser(prog=f"python -m data {args.command}", description=(module.__doc__ or help_).strip(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    module.add_arguments(p)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        return int(module.run(p.parse_args(rest)) or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
