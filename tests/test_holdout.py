"""The real holdout split."""

from __future__ import annotations

import numpy as np
import pytest

from synthlake.holdout import MIN_HOLDOUT, split_indices


def test_same_seed_same_split_and_other_seed_differs():
    first = split_indices(100, 0.2, seed=3)
    again = split_indices(100, 0.2, seed=3)
    other = split_indices(100, 0.2, seed=4)

    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[1], other[1])


@pytest.mark.parametrize(("n_rows", "fraction", "expected"), [(100, 0.2, 20), (50, 0.3, 15), (10_000, 0.05, 500)])
def test_parts_are_disjoint_cover_all_rows_and_respect_the_fraction(n_rows, fraction, expected):
    train, holdout = split_indices(n_rows, fraction, seed=0)

    assert len(holdout) == expected
    assert not set(train) & set(holdout)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, holdout])), np.arange(n_rows))
    assert list(train) == sorted(train) and list(holdout) == sorted(holdout)


def test_at_least_five_holdout_rows():
    train, holdout = split_indices(20, 0.05, seed=0)

    assert len(holdout) == MIN_HOLDOUT == 5
    assert len(train) == 15


def test_holdout_never_exceeds_half_of_the_rows():
    train, holdout = split_indices(8, 0.2, seed=0)

    assert len(holdout) == 4 and len(train) == 4


def test_small_fractions_are_raised_to_a_few_hundred_rows_where_the_table_allows():
    assert len(split_indices(5_000, 0.01, seed=0)[1]) == 200
    assert len(split_indices(600, 0.01, seed=0)[1]) == 120  # at most a fifth of the table
