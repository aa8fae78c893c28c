"""FastCTGAN: the same CTGAN, trained with less work."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from ctgan import CTGAN
from ctgan.data_sampler import DataSampler
from ctgan.data_transformer import DataTransformer

from synthlake.fastpath import (
    FastCTGAN,
    SampledDataTransformer,
    VectorDataSampler,
    _gumbel_softmax,
    cached_transformer,
    column_shapes_score,
    fit_transformer,
    pair_trends_score,
    validation_reference,
)

DISCRETE = ["group", "size"]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny batches train fastest on one thread, and other tests may be using the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def frame() -> pd.DataFrame:
    """200 rows: two skewed category columns and two differently shaped numbers."""
    rng = np.random.default_rng(1)
    n = 200
    group = rng.choice(["a", "b", "c"], n, p=[0.7, 0.2, 0.1])
    return pd.DataFrame(
        {
            "amount": np.where(group == "a", rng.normal(10, 1, n), rng.normal(50, 5, n)),
            "group": group,
            "size": rng.choice(["s", "m", "l", "xl"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "ratio": rng.gamma(2.0, 1.0, n),
        }
    )


def _matrix(frame: pd.DataFrame) -> tuple[np.ndarray, list]:
    transformer = DataTransformer()
    transformer.fit(frame, DISCRETE)
    return transformer.transform(frame), transformer.output_info_list


def _fit(frame: pd.DataFrame, seed: int = 0, cls: type = FastCTGAN, **options) -> CTGAN:
    model = cls(epochs=options.pop("epochs", 2), batch_size=50, pac=10, **options)
    model.set_random_state(seed)
    model.fit(frame, discrete_columns=DISCRETE)
    return model


# -- sampler ----------------------------------------------------------------------------
def test_sampler_draws_conditions_with_ctgans_log_frequencies(frame):
    matrix, info = _matrix(frame)
    draws = 20_000
    shares = []
    for sampler in (DataSampler(matrix, info, True), VectorDataSampler(matrix, info, True)):
        np.random.seed(0)
        cond, _, _, _ = sampler.sample_condvec(draws)
        shares.append(cond.sum(axis=0) / draws)
    # 7 categories in two columns; each share is about 1/2 * log(count + 1) / sum(log(counts + 1))
    assert np.abs(shares[0] - shares[1]).max() < 0.02


def test_sampler_rows_hold_the_chosen_category_uniformly(frame):
    matrix, info = _matrix(frame)
    sampler = VectorDataSampler(matrix, info, True)
    np.random.seed(1)
    _, _, col, opt = sampler.sample_condvec(5_000)

    rows = sampler.sample_data(matrix, len(col), col, opt)

    starts = _discrete_span_starts(info)
    assert (rows[np.arange(len(col)), starts[col] + opt] == 1).all()
    # within one category every real row is equally likely
    np.random.seed(2)
    draws = 40_000
    zeros = np.zeros(draws, dtype=int)
    drawn = sampler.sample_data(np.arange(len(frame))[:, None], draws, zeros, zeros)[:, 0]
    members = sampler._rid_by_cat_cols[0][0]
    assert set(drawn) == set(members)
    counts = np.bincount(drawn, minlength=len(frame))[members]
    assert counts.min() > 0.6 * counts.mean() and counts.max() < 1.4 * counts.mean()


def _discrete_span_starts(info: list) -> np.ndarray:
    starts, start = [], 0
    for column in info:
        if len(column) == 1 and column[0].activation_fn == "softmax":
            starts.append(start)
        start += sum(span.dim for span in column)
    return np.array(starts)


# -- transformer --------------------------------------------------------------------------
def test_transformer_fitted_on_a_bounded_sample_transforms_every_row(frame):
    frame = frame.copy()
    frame.loc[7, "size"] = "xxl"  # a category held by one row must survive the sampling

    transformer = fit_transformer(frame, DISCRETE, sample_rows=50, seed=3)
    matrix = transformer.transform(frame)

    assert transformer.fit_rows == 50
    assert matrix.shape == (len(frame), transformer.output_dimensions)
    size_span = [info for info in transformer._column_transform_info_list if info.column_name == "size"][0]
    assert size_span.output_dimensions == 5
    # every row is one-hot in every softmax span, and continuous values stay in (-1, 1)
    start = 0
    for column in transformer.output_info_list:
        for span in column:
            block = matrix[:, start : start + span.dim]
            if span.activation_fn == "softmax":
                assert (block.sum(axis=1) == 1).all()
            else:
                assert (np.abs(block) < 1).all()
            start += span.dim
    np.testing.assert_array_equal(matrix, transformer.transform(frame))  # deterministic: cacheable
    assert pickle.loads(pickle.dumps(transformer)).transform(frame).shape == matrix.shape


def test_transformer_cache_reuses_the_fit_for_the_same_rows_only(frame, tmp_path, caplog):
    cache = tmp_path / "cache"
    first, reused_first = cached_transformer(frame, DISCRETE, cache_dir=cache, sample_rows=50)
    again, reused_again = cached_transformer(frame, DISCRETE, cache_dir=cache, sample_rows=50)

    assert (reused_first, reused_again) == (False, True)
    np.testing.assert_array_equal(first.transform(frame), again.transform(frame))
    [stored] = cache.glob("*.pkl")
    assert stored.stat().st_mode & 0o777 == 0o600
    # other values, or other settings, are another key: fitted, not reused
    changed = frame.assign(amount=frame["amount"] + 1.0)
    assert cached_transformer(changed, DISCRETE, cache_dir=cache, sample_rows=50)[1] is False
    assert cached_transformer(frame, DISCRETE, cache_dir=cache, sample_rows=60)[1] is False
    # a file that no longer matches its recorded hash is fitted again, not loaded
    stored.write_bytes(stored.read_bytes() + b"x")
    assert cached_transformer(frame, DISCRETE, cache_dir=cache, sample_rows=50)[1] is False
    assert "does not match its hash" in caplog.text


def test_transformer_draws_components_with_the_mixtures_probabilities(frame):
    transformer = SampledDataTransformer(sample_rows=None)
    transformer.fit(frame, DISCRETE)
    info = transformer._column_transform_info_list[0]
    gm = info.transform
    valid = gm.valid_component_indicator
    data = pd.DataFrame({"amount": np.full(20_000, frame["amount"].median())})

    drawn = transformer._transform_continuous(info, data)[:, 1:].mean(axis=0)

    expected = gm._bgm_transformer.predict_proba(data.iloc[:1].to_numpy())[0, valid] + 1e-6
    np.testing.assert_allclose(drawn, expected / expected.sum(), atol=0.015)


# -- activations ----------------------------------------------------------------------------
def test_gumbel_softmax_picks_categories_with_softmax_probabilities():
    torch.manual_seed(0)
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]]).repeat(40_000, 1)

    picks = _gumbel_softmax(logits, tau=0.2).argmax(dim=1)

    shares = torch.bincount(picks, minlength=4) / len(picks)
    assert torch.allclose(shares, torch.softmax(logits[0], dim=0), atol=0.01)


def test_grouped_activations_and_condition_loss_match_ctgans(frame):
    model = _fit(frame, epochs=1)
    torch.manual_seed(0)
    data = torch.randn(50, model._transformer.output_dimensions)
    cond, mask, _, _ = model._data_sampler.sample_condvec(50)
    cond, mask = torch.from_numpy(cond), torch.from_numpy(mask)

    activated = model._apply_activate(data)
    loss = model._cond_loss(data, cond, mask)

    start = 0
    for column in model._transformer.output_info_list:
        for span in column:
            block = activated[:, start : start + span.dim]
            if span.activation_fn == "tanh":
                assert torch.equal(block, torch.tanh(data[:, start : start + span.dim]))
            else:
                assert torch.allclose(block.sum(dim=1), torch.ones(50))
            start += span.dim
    assert torch.allclose(loss, CTGAN._cond_loss(model, data, cond, mask))


# -- the synthesizer ------------------------------------------------------------------------
class _CtganPieces(FastCTGAN):
    """FastCTGAN's loop with ctgan's own transformer, sampler and activations."""

    def _make_transformer(self, train_data, discrete_columns):
        transformer = DataTransformer()
        transformer.fit(train_data, discrete_columns)
        return transformer

    def _make_sampler(self, matrix):
        return DataSampler(matrix, self._transformer.output_info_list, self._log_frequency)

    _apply_activate = CTGAN._apply_activate
    _cond_loss = CTGAN._cond_loss


def test_training_loop_updates_the_model_exactly_as_ctgan(frame):
    reference = _fit(frame, seed=5, cls=CTGAN)
    fast_loop = _fit(frame, seed=5, cls=_CtganPieces)

    np.testing.assert_array_equal(reference.loss_values.iloc[:, 1:], fast_loop.loss_values.iloc[:, 1:])
    expected, got = reference._generator.state_dict(), fast_loop._generator.state_dict()
    assert all(torch.equal(expected[name], got[name]) for name in expected)


def test_fits_and_samples_the_tables_columns(frame):
    model = _fit(frame)

    sample = model.sample(30)

    assert list(sample.columns) == list(frame.columns)
    assert len(sample) == 30
    assert set(sample["group"]) <= {"a", "b", "c"}
    assert list(model.loss_values.columns) == ["Epoch", "Generator Loss", "Discriminator Loss"]
    assert len(model.loss_values) == 2 and model.epochs_trained == 2


def test_same_seed_gives_the_same_samples(frame):
    first, second, other = _fit(frame, seed=1), _fit(frame, seed=1), _fit(frame, seed=2)

    pd.testing.assert_frame_equal(first.sample(40), second.sample(40))
    assert not first.sample(40).equals(other.sample(40))


def test_pickles_and_samples_after_loading(frame):
    model = _fit(frame)
    model.set_random_state(9)
    expected = model.sample(20)

    loaded = pickle.loads(pickle.dumps(model))
    loaded.set_random_state(9)

    pd.testing.assert_frame_equal(loaded.sample(20), expected)


def test_cached_transformer_gives_the_same_model(frame):
    transformer = pickle.loads(pickle.dumps(fit_transformer(frame, DISCRETE)))
    model = FastCTGAN(epochs=1, batch_size=50, pac=10)
    model.set_random_state(4)
    model.fit(frame, DISCRETE, transformer=transformer)

    fresh = _fit(frame, seed=4, epochs=1)

    np.testing.assert_array_equal(model.loss_values, fresh.loss_values)


def test_early_stopping_keeps_the_best_generator_and_the_same_trajectory(frame):
    plain = _fit(frame, seed=3, epochs=6)
    stopped = _fit(frame, seed=3, epochs=6, early_stopping=True, validation_every=1, patience=1, validation_rows=100)

    scores = stopped.validation_scores
    assert 1 <= stopped.epochs_trained <= 6 and len(scores) == stopped.epochs_trained
    assert stopped.best_epoch == scores.loc[scores["Score"].idxmax(), "Epoch"]
    # checks draw without touching the training random streams
    np.testing.assert_array_equal(stopped.loss_values.iloc[:, 1:], plain.loss_values.iloc[: stopped.epochs_trained, 1:])
    reference = validation_reference(frame, 100)
    assert stopped._validation_score(reference, DISCRETE) == pytest.approx(scores["Score"].max())


def test_column_shapes_score_ranges_from_disjoint_to_identical(frame):
    shifted = frame.assign(amount=frame["amount"] + 1_000, group="z")

    assert column_shapes_score(frame, frame, DISCRETE) == pytest.approx(1.0)
    assert column_shapes_score(frame, shifted, DISCRETE) < 0.6


def test_pair_trends_score_sees_broken_relations_that_shapes_miss(frame):
    # every column shuffled on its own: the same shapes, the ties between columns gone
    rng = np.random.default_rng(0)
    shuffled = pd.DataFrame({name: rng.permutation(frame[name].to_numpy()) for name in frame.columns})

    assert pair_trends_score(frame, frame, DISCRETE) == pytest.approx(1.0)
    assert column_shapes_score(frame, shuffled, DISCRETE) == pytest.approx(1.0)
    assert pair_trends_score(frame, shuffled, DISCRETE) < 0.9


def test_rejects_nonsense_early_stopping_settings():
    with pytest.raises(ValueError, match="patience"):
        FastCTGAN(patience=0)


def test_no_check_before_the_least_epochs(frame):
    model = _fit(frame, seed=3, epochs=6, early_stopping=True, validation_every=1, patience=1, min_epochs=4)

    assert model.validation_scores["Epoch"].min() == 3  # epochs count from 0: the 4th epoch
    assert model.best_epoch >= 3
