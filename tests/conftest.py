"""Shared fixtures: small tables made in the test, never real personal data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    """120 rows with every column kind: numbers with gaps, integers, labels, booleans,
    dates, an e-mail identifier, a constant and an empty column."""
    rng = np.random.default_rng(0)
    n = 120
    age = rng.integers(18, 90, n).astype(float)
    age[::9] = np.nan
    group = rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])
    income = np.round(20_000 + 500 * np.nan_to_num(age, nan=40) + rng.normal(0, 3_000, n), 2)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "email": [f"person{i}@example.org" for i in range(n)],
            "age": age,
            "income": income,
            "group": group,
            "children": rng.integers(0, 4, n),
            "active": rng.choice([True, False], n),
            "joined": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "country": "NL",
            "notes": [None] * n,
        }
    )
