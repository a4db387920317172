"""A client generated from the served document by openapi-python-client (pinned in
requirements-dev.txt): no warnings, and a sample program (generated_sample.py) passes
``mypy --strict`` and runs the whole flow against the real stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "generated_sample.py"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def generated(api_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated package's parent folder; generation's output is checked for warnings."""
    root = tmp_path_factory.mktemp("generated")
    (root / "openapi.json").write_bytes(httpx.get(f"{api_url}/openapi.json").content)
    command = [str(BIN / "openapi-python-client"), "generate", "--path", "openapi.json"]
    command += ["--output-path", "initlab_generated", "--meta", "none"]
    command += ["--config", str(HERE / "openapi_python_client.yaml")]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}  # it formats with ruff
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower() and "unable" not in output.lower(), output
    return root


def test_the_sample_program_type_checks_strictly(generated: Path) -> None:
    # the generated package's own code is the generator's; the sample is what is checked
    command = [str(BIN / "mypy"), "--strict", "--follow-imports=silent", str(SAMPLE)]
    env = {**os.environ, "MYPYPATH": str(generated)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sample_program_runs_the_whole_flow(
    generated: Path, api_url: str, celery_worker: subprocess.Popen
) -> None:
    env = {**os.environ, "PYTHONPATH": str(generated)}
    result = subprocess.run(
        [sys.executable, str(SAMPLE), api_url], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("final cost ")
