"""The TypeScript types (clients/typescript): generated from the served document by
openapi-typescript and committed; the sample program and the page's api.js type-check against
them with ``tsc --strict`` (node tools from clients/typescript's lock file: ``npm ci`` in
scripts/install_test_tools.sh)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from api.main import create_app
from store.settings import Settings

TYPESCRIPT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
BIN = TYPESCRIPT / "node_modules" / ".bin"


def node_tool(name: str) -> str:
    if not (BIN / name).exists():
        pytest.fail(f"{BIN / name} is missing: run scripts/install_test_tools.sh (npm ci)")
    return str(BIN / name)


def test_the_committed_types_are_those_of_the_served_document(tmp_path: Path) -> None:
    document = json.dumps(create_app(Settings()).openapi(), indent=2, sort_keys=True) + "\n"
    assert (TYPESCRIPT / "openapi.json").read_text() == document, (
        "stale: python -m api.openapi > clients/typescript/openapi.json, then npm run generate"
    )
    (tmp_path / "openapi.json").write_text(document)
    command = [node_tool("openapi-typescript"), "openapi.json", "--output", "schema.d.ts"]
    command += ["--default-non-nullable", "false"]  # a field with a default may be left out
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    generated = (tmp_path / "schema.d.ts").read_text()
    assert (TYPESCRIPT / "schema.d.ts").read_text() == generated, "stale: npm run generate"


def test_the_sample_and_the_pages_api_js_type_check_strictly() -> None:
    # tsconfig.json: strict, checkJs; sample.ts fails to compile if records, summary,
    # catalog, presets or theory were `unknown`
    result = subprocess.run(
        [node_tool("tsc"), "-p", str(TYPESCRIPT)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
