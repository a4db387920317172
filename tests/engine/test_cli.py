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


@pytest.mark.parametrize("content", [b"[1, 2]", b"null", b'"playground"'])
def test_a_spec_file_that_is_not_an_object_is_refused_plainly(tmp_path, capsys, content) -> None:
    spec = tmp_path / "spec.json"
    spec.write_bytes(content)
    assert main(["run", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "a spec is a JSON object" in err and "Traceback" not in err


def test_run_gives_the_records_the_worker_would_by_default(tmp_path) -> None:
    from threadpoolctl import threadpool_limits

    from engine.spec import resolve
    from engine.train import Training

    out = tmp_path / "run.jsonl"
    sets = ["--set", "dataset.n_samples=300", "--set", "training.iterations=2"]
    assert main(["run", "--preset", "mnist", *sets, "--out", str(out)]) == 0
    request = {"dataset": {"n_samples": 300}, "training": {"iterations": 2}}
    spec = resolve({"preset": "mnist", **request})
    with threadpool_limits(1):  # the worker's BLAS threads (WORKER_BLAS_THREADS, default 1)
        expected = [orjson.dumps({k: v for k, v in r.items() if k != "parameters"})
                    for r in Training(spec).run()]  # fmt: skip
    assert out.read_bytes().splitlines()[:-1] == expected
