"""The initlab command line."""

import orjson
import pytest

from engine.cli import main, parse_assignment


def test_set_parses_json_values_and_paths() -> None:
    assert parse_assignment("init.method=he_normal") == {"init": {"method": "he_normal"}}
    assert parse_assignment("model.hidden=[4,4]") == {"model": {"hidden": [4, 4]}}
    with pytest.raises(ValueError, match=r"FIELD\.PATH=VALUE"):
        parse_assignment("oops")


def test_run_writes_one_line_per_record_then_the_summary(tmp_path, capsys) -> None:
    out = tmp_path / "run.jsonl"
    code = main(["run", "--preset", "playground", "--set", "training.iterations=12",
                 "--set", "record.every=3", "--out", str(out)])  # fmt: skip
    assert code == 0
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [line["iteration"] for line in lines[:-1]] == [0, 3, 6, 9, 12]
    assert lines[-1]["summary"]["iterations_run"] == 12


def test_bad_input_exits_non_zero_with_the_field(capsys) -> None:
    assert main(["run", "--set", "optimizer.learning_rate=-1"]) == 2
    err = capsys.readouterr().err
    assert "optimizer.learning_rate" in err and "Traceback" not in err
