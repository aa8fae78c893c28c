"""Atomic product writes, JSON cleaning and fingerprints."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

from synthlake.products import atomic_path, read_json, sha256, write_csv, write_json, write_text


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_atomic_write_leaves_only_the_final_file(tmp_path):
    path = tmp_path / "sub" / "out.txt"

    write_text(path, "hello")

    assert path.read_text(encoding="utf-8") == "hello"
    assert os.listdir(path.parent) == ["out.txt"]


def test_failing_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "out.txt"
    write_text(path, "old")

    with pytest.raises(RuntimeError), atomic_path(path) as temp:
        temp.write_text("half-writ", encoding="utf-8")
        raise RuntimeError("crash in the middle")

    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_write_json_turns_nan_and_numpy_into_json(tmp_path):
    path = tmp_path / "data.json"

    write_json(
        path,
        {
            "nan": float("nan"),
            "inf": float("inf"),
            "np_nan": np.float64("nan"),
            "n": np.int64(3),
            "list": [1.5, np.nan],
        },
    )

    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"nan": None, "inf": None, "np_nan": None, "n": 3, "list": [1.5, None]}
    assert read_json(path) == json.loads(text)


def test_write_csv_round_trips(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})

    path = write_csv(tmp_path / "t.csv", frame)

    pd.testing.assert_frame_equal(pd.read_csv(path), frame)


def test_sha256_is_stable_and_changes_with_content(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    first = sha256(path)
    again = sha256(path)
    path.write_bytes(b"abd")

    assert first == again == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256(path) != first


def test_sha256_of_a_folder_covers_names_and_contents(tmp_path):
    folder = tmp_path / "d"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("1", encoding="utf-8")
    (folder / "sub" / "b.txt").write_text("2", encoding="utf-8")
    first = sha256(folder)

    (folder / "sub" / "b.txt").rename(folder / "sub" / "c.txt")

    assert sha256(folder) != first


def test_default_mode_follows_the_umask(tmp_path, umask_022):
    path = write_text(tmp_path / "plain.txt", "x")

    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_explicit_mode_is_applied(tmp_path, umask_022):
    path = tmp_path / "secret.txt"

    with atomic_path(path, mode=0o600) as temp:
        temp.write_text("x", encoding="utf-8")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
