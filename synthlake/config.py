"""Run parameters: the YAML file, command-line overrides, and their validation.

The parameters hold run settings only. API keys never live here: they come from the
environment (``OPENAI_API_KEY``, ``AZURE_OPENAI_API_KEY``), and a parameter that looks
like a secret is refused with a message that says so.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from synthlake.errors import ConfigError

TABLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
SECRET_NAMES = re.compile(r"(api[_-]?key|secret|password|token)", re.IGNORECASE)
SOURCE_PASSWORD_ENV = "SYNTHLAKE_SOURCE_PASSWORD"  # noqa: S105 - the variable's name; the URL never holds one
# the same bounds the hyperparameter check clamps to (synthlake.hyperparameters)
MAX_EPOCHS, MAX_BATCH = 2000, 10_000
# run-wide settings that a table may override; given on the command line, they win for every table
PER_TABLE = ("synthetic_dataset_len", "epochs", "batch_size", "time_budget_minutes", "synthesizer", "early_stopping")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


Engine = Literal["ctgan", "tvae", "gaussian_copula"]


class TableSettings(_Strict):
    """Settings for one table; each one overrides the run-wide default."""

    label_variable: str | None = None
    synthetic_dataset_len: int | None = Field(default=None, ge=1)
    epochs: int | None = Field(default=None, ge=1, le=MAX_EPOCHS)
    batch_size: int | None = Field(default=None, ge=10, le=MAX_BATCH)
    identifier_columns: list[str] | None = None
    time_budget_minutes: float | None = Field(default=None, gt=0, le=10_000)
    synthesizer: Engine | None = None
    early_stopping: bool | None = None


class LLMSettings(_Strict):
    """An OpenAI-compatible endpoint. The key comes from the environment."""

    model: str = "gpt-4o-mini"
    base_url: str | None = None
    azure_endpoint: str | None = None
    api_version: str | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=1, ge=0, le=10)


class HyperparameterSettings(_Strict):
    provider: Literal["heuristic", "openai"] = "heuristic"


class NarrativeSettings(_Strict):
    provider: Literal["template", "openai"] = "template"


class PrivacySettings(_Strict):
    """Protection of individuals in every product."""

    k: int = Field(default=10, ge=1, le=1000)
    repair: bool = False
    faker_locale: str = "en_US"


class RunConfig(_Strict):
    """Everything a run needs; validated before any work starts."""

    source: str
    destination: str = "outputs/lakehouse"
    output_dir: str = "outputs/runs"
    include: list[str] | None = None
    synthetic_dataset_len: int = Field(default=1000, ge=1)
    epochs: int | None = Field(default=None, ge=1, le=MAX_EPOCHS)
    batch_size: int | None = Field(default=None, ge=10, le=MAX_BATCH)
    time_budget_minutes: float | None = Field(default=None, gt=0, le=10_000)
    synthesizer: Engine = "ctgan"
    early_stopping: bool = True
    tables: dict[str, TableSettings] = Field(default_factory=dict)
    hyperparameters: HyperparameterSettings = Field(default_factory=HyperparameterSettings)
    narrative: NarrativeSettings = Field(default_factory=NarrativeSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    seed: int = 42
    holdout_fraction: float = Field(default=0.2, gt=0.0, lt=0.9)
    min_rows: int = Field(default=20, ge=2)
    progress: bool = True
    workers: int = Field(default=1, ge=1, le=64)

    @field_validator("source")
    @classmethod
    def _no_password_in_url(cls, value: str) -> str:
        from synthlake.lakehouse import is_sql_url

        if is_sql_url(value):
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                password = make_url(value).password
            except (ArgumentError, ValueError):
                return value  # not a URL SQLAlchemy can parse: reported when the source is read
            if password:
                raise ValueError(
                    f"the database URL holds a password; remove it from the URL and set {SOURCE_PASSWORD_ENV} "
                    "in the environment (parameters are written to the run folder, secrets never are)"
                )
        return value

    @field_validator("include")
    @classmethod
    def _names_are_valid(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not TABLE_NAME.match(name):
                raise ValueError(f"table name '{name}' may only hold letters, digits, '_', '.', '-'")
        return value

    def table(self, name: str) -> TableSettings:
        """The settings of table ``name``, with run-wide defaults filled in."""
        settings = self.tables.get(name, TableSettings())
        merged = settings.model_copy()
        if merged.synthetic_dataset_len is None:
            merged.synthetic_dataset_len = self.synthetic_dataset_len
        if merged.epochs is None:
            merged.epochs = self.epochs
        if merged.batch_size is None:
            merged.batch_size = self.batch_size
        if merged.time_budget_minutes is None:
            merged.time_budget_minutes = self.time_budget_minutes
        if merged.synthesizer is None:
            merged.synthesizer = self.synthesizer
        if merged.early_stopping is None:
            merged.early_stopping = self.early_stopping
        return merged

    def with_absolute_paths(self, base: str | Path | None = None) -> RunConfig:
        """A copy whose source, destination and output folder are absolute paths.

        Relative paths are taken from ``base`` (default: the current folder), so that
        notebooks, which run in the table's folder, find the same files.
        """
        from synthlake.lakehouse import is_sql_url

        root = Path(base or Path.cwd())
        update = {name: str((root / getattr(self, name)).resolve()) for name in ("destination", "output_dir")}
        if not is_sql_url(self.source):
            update["source"] = str((root / self.source).resolve())
        return self.model_copy(update=update)

    def public_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready data, safe to write to the run folder."""
        return json.loads(self.model_dump_json())


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        last = str(item["loc"][-1]) if item["loc"] else ""
        if item["type"] == "extra_forbidden" and SECRET_NAMES.search(last):
            lines.append(
                f"parameter '{where}': secrets are not accepted as parameters; set "
                "OPENAI_API_KEY (or AZURE_OPENAI_API_KEY) in the environment instead"
            )
        elif item["type"] == "extra_forbidden":
            lines.append(f"unknown parameter '{where}'; check its spelling against README.md")
        else:
            lines.append(f"parameter '{where}': {item['msg']}")
    return "Invalid run parameters:\n  " + "\n  ".join(lines)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_parameters_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML parameters file into a plain dictionary.

    Raises:
        ConfigError: the file is missing, is not YAML, or is not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Parameters file '{path}' does not exist; pass --params with a YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"Parameters file '{path}' is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"Parameters file '{path}' must hold a mapping of parameter names")
    return data


def build_config(data: dict[str, Any], overrides: dict[str, Any] | None = None) -> RunConfig:
    """Validate parameters, with ``overrides`` (nested like the YAML) taking precedence.

    A run-wide setting in ``overrides`` that tables may override (:data:`PER_TABLE`:
    the command line's ``--epochs``, ``--synthetic-dataset-len``, ...) applies to every
    table: the file's per-table values for it are dropped.

    Raises:
        ConfigError: naming every unknown or invalid parameter.
    """
    overrides = overrides or {}
    data = copy.deepcopy(data)
    for key in PER_TABLE:  # a command-line value applies to every table, over the file's per-table values
        if key in overrides:
            for settings in (data.get("tables") or {}).values():
                if isinstance(settings, dict):
                    settings.pop(key, None)
    merged = _merge(data, overrides)
    try:
        config = RunConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    batch_sizes = {"batch_size": config.batch_size}
    for name, settings in config.tables.items():
        if not TABLE_NAME.match(name):
            raise ConfigError(f"parameter 'tables.{name}': not a valid table name")
        batch_sizes[f"tables.{name}.batch_size"] = settings.batch_size
    for where, value in batch_sizes.items():
        if value is not None and value % 10:
            raise ConfigError(
                f"parameter '{where}': CTGAN needs a multiple of 10 (even and a multiple of pac=10); got {value}"
            )
    return config


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read and validate a parameters file. See :func:`build_config`."""
    return build_config(read_parameters_file(path), overrides)
