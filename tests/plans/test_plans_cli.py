"""`twinning plan import FILE` (YAML or JSON) records the plan for the worker; `twinning plan
export YEAR` prints it as import takes it; a file that is not a plan is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import yaml  # type: ignore[import-untyped]
from conftest import Projection
from plan_support import seed_plan
from sqlalchemy import select
from sqlalchemy.orm import Session
from twinning.cli import cli
from twinning.streams.events import decode
from twinning.streams.store import OutboxEvent
from typer.testing import CliRunner


def test_a_yaml_plan_is_imported_and_exported_as_it_was(
    projection: Projection, tmp_path: Path
) -> None:
    settings = projection.settings
    env = {"TWINNING_DATABASE_URL": str(settings.database_url)}
    data_dir = str(settings.data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    plan_file = tmp_path / "plan-2024.yaml"
    plan_file.write_text(yaml.safe_dump(seed_plan(), allow_unicode=True), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["plan", "import", str(plan_file), "--data-dir", data_dir], env=env)
    assert result.exit_code == 0, result.output
    assert "plan 2024 recorded" in result.output
    with Session(projection.engine) as session:
        bodies = session.scalars(select(OutboxEvent.body).where(OutboxEvent.type == "PlanAdopted"))
        events = [decode(body) for body in bodies]
    assert projection.apply(*events) == ["applied"]
    result = runner.invoke(
        cli, ["plan", "export", "2024", "--format", "json", "--data-dir", data_dir], env=env
    )
    assert result.exit_code == 0, result.output
    exported = json.loads(result.output)
    assert exported["goals"][0]["work_items"][0]["budget"] == "10900"
    assert exported == events[0].payload.model_dump(mode="json", exclude_none=True)


def test_a_file_that_is_not_a_plan_is_refused_naming_the_field(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({**seed_plan(), "year": "soon"}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", "import", str(plan_file)])
    assert result.exit_code == 1
    assert "is not a plan: year:" in result.output
