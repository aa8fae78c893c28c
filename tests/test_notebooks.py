"""Source notebooks: committed clean, with a parameters cell papermill can read."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from synthlake.orchestration import NOTEBOOKS, STEP_PARAMETERS, Step, plan

ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
EXPECTED = {
    "01_import_data_to_lakehouse", "02_summary_raw_data", "03_gpt_prompting_configuration",
    "04_synthetic_data_generation", "05_summary_synthetic_data", "06_report_prompting", "07_gpt_prompting",
    "08_decision_tree_classifier", "08_decision_tree_regressor", "09_generate_reports",
}  # fmt: skip


def test_every_activity_has_its_notebook():
    assert {path.stem for path in ALL} == EXPECTED


def test_the_plan_only_names_existing_notebooks():
    from synthlake import orchestration

    steps = [value for value in vars(orchestration).values() if isinstance(value, Step)]
    assert len(steps) == 10
    for step in steps:
        assert (NOTEBOOKS / step.notebook).is_file(), step.notebook
    assert [s.name for s in plan(None)][-3:] == ["report_prompting", "gpt_prompting", "generate_reports"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path: Path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs; strip them before committing"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_parameters_cell_holds_only_typed_literals(path: Path):
    book = nbformat.read(path, as_version=4)
    tagged = [cell for cell in book.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell must be tagged 'parameters'"
    names = set()
    for line, node in zip(tagged[0].source.splitlines(), ast.parse(tagged[0].source).body, strict=True):
        assert isinstance(node, ast.AnnAssign), f"{path.name}: '{line}' is not 'name: type = literal'"
        ast.literal_eval(node.value)  # a computed default would ignore papermill's overrides
        assert "#" in line, f"{path.name}: parameter '{node.target.id}' needs a trailing comment"
        names.add(node.target.id)
    assert names == STEP_PARAMETERS


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_validates_its_parameters_next(path: Path):
    book = nbformat.read(path, as_version=4)
    index = next(i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", []))
    assert "steps.validate(table=table, run_dir=run_dir)" in book.cells[index + 1].source


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_never_loads_the_real_table_itself(path: Path):
    """Real rows stay inside package functions, which return aggregates; a notebook that
    loaded them could display them. (test_pipeline checks the executed outputs.)"""
    source = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    for risky in ("ctx.real(", "lakehouse.read(", "read_source_table(", "DeltaTable("):
        assert risky not in source, f"{path.name} loads real rows with {risky}"
