"""``initlab``: run an experiment locally, one JSON record per line, no server needed.

initlab run SPEC.json
initlab run --preset mnist --set init.method=standard_normal --set training.iterations=20
initlab presets
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import ValidationError

from engine.experiment import ExperimentSpec
from engine.presets import PRESETS
from engine.spec import deep_merge, nested, resolve


def parse_assignment(text: str) -> dict[str, Any]:
    """``a.b=value`` -> ``{"a": {"b": value}}``; the value is JSON when it parses, else text."""
    path, sep, raw = text.partition("=")
    if not sep or not path:
        raise ValueError(f"--set expects FIELD.PATH=VALUE, got {text!r}")
    try:
        value: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw
    return nested(path, value)


def build_spec(args: argparse.Namespace) -> ExperimentSpec:
    request: dict[str, Any] = {}
    if args.spec:
        request = orjson.loads(Path(args.spec).read_bytes())
        if not isinstance(request, dict):
            raise ValueError(f"{args.spec}: a spec is a JSON object, not {type(request).__name__}")
    if args.preset:
        request["preset"] = args.preset
    for assignment in args.set or []:
        request = deep_merge(request, parse_assignment(assignment))
    return resolve(request)


def run(args: argparse.Namespace) -> int:
    from threadpoolctl import threadpool_limits
    from tqdm import tqdm

    from engine.train import Training

    spec = build_spec(args)
    # BLAS partitions its sums by thread count: the worker's count gives the service's bits
    threadpool_limits(args.threads)
    training = Training(spec, mnist_dir=args.mnist_dir)
    out: BinaryIO = open(args.out, "wb") if args.out else sys.stdout.buffer  # noqa: SIM115
    try:
        with tqdm(total=spec.training.iterations, file=sys.stderr, unit="it") as bar:
            for record in training.run():  # the parameter snapshots are not printed
                out.write(orjson.dumps(record) + b"\n")
                bar.update(record["iteration"] - bar.n)
        out.write(orjson.dumps({"summary": training.summary}) + b"\n")
    finally:
        if args.out:
            out.close()
    return 0


def presets(_: argparse.Namespace) -> int:
    for preset in PRESETS.values():
        print(f"{preset.name:12} {preset.title}  [{preset.figure}]")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="initlab", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="train locally and print records as JSON lines")
    run_cmd.add_argument("spec", nargs="?", help="experiment spec JSON file")
    run_cmd.add_argument("--preset", choices=sorted(PRESETS), help="start from a named figure")
    run_cmd.add_argument("--set", action="append", metavar="FIELD=VALUE", help="override a field")
    run_cmd.add_argument("--out", help="write records here instead of stdout")
    run_cmd.add_argument("--mnist-dir", help="a folder of standard MNIST IDX files")
    run_cmd.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads (default 1, the worker's default: the same records, bit for bit)",
    )
    run_cmd.set_defaults(handler=run)
    commands.add_parser("presets", help="list the named figures").set_defaults(handler=presets)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ValidationError as error:
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "spec"
            print(f"initlab: invalid spec: {where}: {item['msg']}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as error:
        print(f"initlab: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
