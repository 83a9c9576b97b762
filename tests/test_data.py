"""tf.data.Dataset and keras.utils.PyDataset: TensorFlow's semantics, checked on hand-worked cases."""

import numpy as np
import pandas as pd
import pytest

import unafraid as tf
from unafraid.data import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from unafraid.keras.utils import PyDataset


@pytest.fixture(autouse=True)
def _default_seed_afterwards():
    """Tests here set seeds; later test files start from the library's default seed again."""
    yield
    tf.set_random_seed(tf.random.DEFAULT_SEED)


def values(ds):
    return [np.asarray(e).tolist() for e in ds]


def test_from_tensor_slices_arrays_tuples_dicts_and_frames():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert values(Dataset.from_tensor_slices(x)) == [[0, 1], [2, 3], [4, 5]]
    pairs = list(Dataset.from_tensor_slices((x, np.array([7, 8, 9]))))
    assert isinstance(pairs[0], tuple) and pairs[2][0].tolist() == [4, 5] and pairs[2][1] == 9
    rows = list(Dataset.from_tensor_slices({"a": [1, 2], "b": ([3.0, 4.0], [5, 6])}))
    assert rows[1]["a"] == 2 and rows[1]["b"][0] == 4.0 and rows[1]["b"][1] == 6
    assert rows[0]["b"][0].dtype == np.float32  # Python floats become float32, as in TensorFlow
    df = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.25, 0.125]})
    assert values(Dataset.from_tensor_slices(df)) == [[1, 0.5], [2, 0.25], [3, 0.125]]
    cols = list(Dataset.from_tensor_slices((dict(df), df["a"])).batch(2))
    assert cols[0][0]["b"].tolist() == [0.5, 0.25] and cols[1][1].tolist() == [3]
    assert values(Dataset.from_tensors([1, 2])) == [[1, 2]]
    with pytest.raises(ValueError, match="same first dimension"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))


def test_batch_drop_remainder_and_cardinality():
    ds = Dataset.range(10)
    assert values(ds.batch(4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert values(ds.batch(4, drop_remainder=True)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert ds.batch(4).cardinality() == 3 and ds.batch(4, drop_remainder=True).cardinality() == 2
    assert ds.batch(4).cardinality().numpy() == 3 and len(ds.batch(4)) == 3
    assert values(ds.batch(4).unbatch()) == list(range(10))
    assert values(ds.map(lambda i: (i, i * 2)).batch(3).unbatch().map(lambda a, b: b)) == [
        2 * i for i in range(10)]
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        ds.batch(0)


def test_take_skip_repeat_concatenate_enumerate_zip():
    ds = Dataset.range(5)
    assert values(ds.take(2)) == [0, 1] and values(ds.take(-1)) == [0, 1, 2, 3, 4]
    assert values(ds.skip(3)) == [3, 4] and values(ds.skip(-1)) == []
    assert values(ds.take(2).repeat(3)) == [0, 1] * 3
    assert values(ds.repeat().take(7)) == [0, 1, 2, 3, 4, 0, 1]
    assert ds.repeat().cardinality() == INFINITE_CARDINALITY == tf.data.INFINITE_CARDINALITY == -1
    assert ds.repeat().take(7).cardinality() == 7 and ds.skip(9).cardinality() == 0
    assert values(ds.take(2).concatenate(Dataset.range(8, 10))) == [0, 1, 8, 9]
    assert values(ds.skip(3).enumerate(start=10)) == [[10, 3], [11, 4]]
    assert values(Dataset.zip(ds, ds.skip(2))) == [[0, 2], [1, 3], [2, 4]]
    assert values(Dataset.zip((ds, ds.take(1)))) == [[0, 0]]
    assert list(Dataset.zip({"a": ds, "b": ds}).take(1)) == [{"a": 0, "b": 0}]
    with pytest.raises(TypeError, match="infinite"):
        len(ds.repeat())


def test_map_filter_unpack_tuples_and_accept_tensors():
    ds = Dataset.from_tensor_slices((np.arange(6.0, dtype=np.float32), np.arange(6)))
    mapped = ds.map(lambda x, y: (tf.square(tf.constant(x)), y + 1))  # unafraid ops inside map
    first = next(iter(mapped))
    assert isinstance(first[0], np.floating | np.ndarray) and float(first[0]) == 0.0
    assert values(mapped.map(lambda x, y: x)) == [0, 1, 4, 9, 16, 25]
    kept = ds.filter(lambda x, y: y % 2 == 0)
    assert values(kept.map(lambda x, y: y)) == [0, 2, 4]
    assert kept.cardinality() == UNKNOWN_CARDINALITY == -2
    with pytest.raises(TypeError, match="unknown"):
        len(kept)
    with pytest.raises(ValueError, match="one boolean per element"):
        list(Dataset.from_tensor_slices(np.zeros((2, 3))).filter(lambda x: x > 0))


def test_shuffle_is_a_seeded_permutation_reshuffled_each_epoch():
    tf.set_random_seed(7)
    ds = Dataset.range(20).shuffle(20)
    first, second = values(ds), values(ds)
    assert sorted(first) == list(range(20)) and sorted(second) == list(range(20))
    assert first != list(range(20)) and first != second  # a new order every iteration
    tf.set_random_seed(7)
    again = Dataset.range(20).shuffle(20)
    assert values(again) == first and values(again) == second  # same seed, same epochs
    fixed = Dataset.range(20).shuffle(20, seed=3, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)
    assert values(Dataset.range(20).shuffle(20, seed=3)) == values(Dataset.range(20).shuffle(
        20, seed=3))


def test_shuffle_buffer_follows_tensorflows_algorithm():
    assert values(Dataset.range(10).shuffle(1, seed=0)) == list(range(10))  # a buffer of one
    order = values(Dataset.range(100).shuffle(5, seed=1))
    assert sorted(order) == list(range(100))
    # element k can only be emitted once it has entered the buffer: at output position >= k - 4
    assert all(k <= pos + 4 for pos, k in enumerate(order))
    # the fast path (arrays read by index when batching) gives the same order as element by element
    direct = np.concatenate(values(Dataset.range(100).shuffle(5, seed=1).batch(8)))
    slow = np.concatenate(values(Dataset.range(100).map(lambda i: i).shuffle(5, seed=1).batch(8)))
    assert direct.tolist() == slow.tolist() == order


def test_cache_reads_the_source_once_and_generator_streams():
    calls = []

    def gen():
        calls.append(1)
        yield from ([i, i * 10] for i in range(3))

    ds = Dataset.from_generator(gen, output_signature=tf.TensorSpec(shape=(2,), dtype=tf.int32))
    cached = ds.cache()
    assert values(cached) == values(cached) == [[0, 0], [1, 10], [2, 20]]
    assert len(calls) == 1 and next(iter(cached)).dtype == np.int32
    assert ds.cardinality() == UNKNOWN_CARDINALITY

    def endless():
        i = 0
        while True:
            yield i
            i += 1

    assert values(Dataset.from_generator(endless, output_types=tf.float32).take(3)) == [0, 1, 2]
    with pytest.raises(ValueError, match="output_signature says"):
        list(Dataset.from_generator(gen, output_signature=tf.TensorSpec((3,), tf.int32)))
    with pytest.raises(TypeError, match="generator function itself"):
        Dataset.from_generator(gen())


def test_sample_from_datasets():
    a, b = Dataset.range(0, 5), Dataset.range(100, 103)
    mixed = values(Dataset.sample_from_datasets([a, b], seed=4))
    assert sorted(mixed) == [0, 1, 2, 3, 4, 100, 101, 102]  # without replacement; empties skipped
    assert [v for v in mixed if v < 100] == [0, 1, 2, 3, 4]  # each dataset keeps its order
    assert values(Dataset.sample_from_datasets([a, b], weights=[1.0, 0.0])) == [0, 1, 2, 3, 4]
    stopped = values(Dataset.sample_from_datasets([a, b], seed=4, stop_on_empty_dataset=True))
    assert len(stopped) < 8 and values(Dataset.sample_from_datasets([a, b], seed=4)) == mixed
    with pytest.raises(ValueError, match="weights must be 2"):
        Dataset.sample_from_datasets([a, b], weights=[1.0])


def test_csv_dataset(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y,label\n1.5,2,0\n,4,1\n3.25,NA,1\n")
    ds = tf.data.experimental.CsvDataset(str(path), [0.0, tf.float32, tf.int64], header=True,
                                         na_value="NA")
    rows = list(ds.take(2))  # the third row lacks its required second field
    assert [r[0] for r in rows] == [1.5, 0.0] and rows[1][1] == 4 and rows[0][2].dtype == np.int64
    assert rows[0][1].dtype == np.float32 and rows[0][0].dtype == np.float32
    with pytest.raises(ValueError, match="line 4, column 1 is empty and required"):
        list(ds.batch(3))
    picked = tf.data.experimental.CsvDataset(str(path), [0], header=True, select_cols=[2])
    assert values(picked) == [[0], [1], [1]]
    with pytest.raises(TypeError, match="numeric columns only"):
        tf.data.experimental.CsvDataset(str(path), [tf.string])


def test_iterable_of_batches_for_fit_and_autotune():
    x, y = np.ones((10, 3), np.float32), np.arange(10)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(10).batch(4).prefetch(tf.data.AUTOTUNE)
    batches = list(ds)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert sorted(np.concatenate([b[1] for b in batches]).tolist()) == list(range(10))
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE
    assert tf.data.experimental.cardinality(ds) == 3


def test_py_dataset_yields_its_batches_and_calls_epoch_hooks():
    class Batches(PyDataset):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.ends = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full((2, 1), i, np.float32), np.full(2, i)

        def on_epoch_end(self):
            self.ends += 1

    data = Batches(workers=2)
    assert [int(y[0]) for _, y in data] == [0, 1, 2] and data.ends == 1
    assert data.num_batches == 3 and data.cardinality() == 3
    assert tf.keras.utils.Sequence is PyDataset
    with pytest.raises(NotImplementedError, match="must define __len__"):
        len(PyDataset())
