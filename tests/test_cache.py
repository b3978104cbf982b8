"""Tests for gmmlab.cache: the folder, checksummed entries, the chapters' joblib cache."""

import subprocess
import sys

import numpy as np
import pytest

import gmmlab.kmeans
import gmmlab.metrics
from gmmlab import cache


def test_importing_the_cache_does_not_import_torch():
    code = "import sys, gmmlab.cache; gmmlab.cache.cache_dir(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_entries_round_trip_and_corruption_is_detected(tmp_path):
    path = tmp_path / "sub" / "entry.bin"
    assert cache.read_entry(path) is None
    cache.write_entry(path, b"payload")
    assert cache.read_entry(path) == b"payload"
    assert not list(path.parent.glob("*.tmp"))  # no temporary file left
    path.write_bytes(path.read_bytes()[:-2])  # truncated
    with pytest.warns(UserWarning, match="corrupt or truncated"):
        assert cache.read_entry(path) is None


def test_digests_separate_parts_and_see_dtype_and_shape():
    assert cache.digest("ab", "c") != cache.digest("a", "bc")
    a = np.arange(6, dtype=np.int64)
    assert cache.array_digest(a) == cache.array_digest(a.copy())
    assert cache.array_digest(a) != cache.array_digest(a.reshape(2, 3))
    assert cache.array_digest(a) != cache.array_digest(a.astype(np.int32))


def test_memory_lives_in_the_cache_folder_and_source_digest_tracks_the_code(tmp_path, monkeypatch):
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path / "c"))
    mem = cache.memory()
    calls = []

    @mem.cache
    def square(x, library=cache.source_digest(gmmlab.kmeans)):
        calls.append(x)
        return x * x

    assert square(3) == 9 and square(3) == 9 and calls == [3]  # second call read from disk
    assert (tmp_path / "c" / "joblib").is_dir()
    k = cache.source_digest(gmmlab.kmeans)
    assert k == cache.source_digest(gmmlab.kmeans)
    assert k != cache.source_digest(gmmlab.metrics)
    assert cache.source_digest(gmmlab.kmeans, gmmlab.metrics) != k
    with pytest.raises(TypeError, match="modules"):
        cache.source_digest("gmmlab.kmeans")
    with pytest.raises(TypeError, match="at least one"):
        cache.source_digest()


# --------------------------------------------------------------------------- issue 18: bad input


def _old_digest(*parts):
    """The encoding before issue 18: each part followed by a NUL byte, unescaped."""
    import hashlib

    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()


def test_digest_separator_inside_a_part_no_longer_collides():
    assert _old_digest("a\0b") == _old_digest("a", "b")  # the old collision
    assert cache.digest("a\0b") != cache.digest("a", "b")
    assert cache.digest("a\0", "b") != cache.digest("a", "\0b")
    assert cache.digest("a", "") != cache.digest("a\0")
    assert cache.digest() != cache.digest("")
    assert cache.digest("\x01\0") != cache.digest("\x01", "")


def test_digest_distinct_part_lists_give_distinct_digests():
    # Every list of up to 3 parts over a small alphabet that includes the separator and
    # the escape byte: no two lists share a digest.
    import itertools

    words = ["", "\0", "\x01", "a", "\0\0", "\x01\0", "\0\x01", "a\0", "\x01\x01"]
    lists = [p for n in range(4) for p in itertools.product(words, repeat=n)]
    digests = {cache.digest(*p) for p in lists}
    assert len(digests) == len(lists)


def test_digest_keys_of_text_parts_are_unchanged():
    # The chapters' cache keys (text and hex digests, never NUL or \x01) keep their value.
    parts = ["mlp-v3", "ab" * 32, '{"lr": 0.001}', "é中", ""]
    assert cache.digest(*parts) == _old_digest(*parts)
    a = np.arange(12.0).reshape(3, 4)
    assert cache.array_digest(a) == _old_digest(str(a.dtype), str(a.shape), memoryview(a).cast("B"))
    assert cache.digest(bytearray(b"xy")) == cache.digest(memoryview(b"xy")) == cache.digest(b"xy")
    assert cache.digest("\ud800") != cache.digest("\ud801")  # lone surrogates hash by value


@pytest.mark.parametrize("bad", [None, 1, 1.5, ["a"], {"a": 1}, np.arange(3)])
def test_digest_refuses_parts_that_are_not_text_or_bytes(bad):
    with pytest.raises(TypeError, match="digest parts must be str or bytes.*part 1"):
        cache.digest("a", bad)


@pytest.mark.parametrize("bad", [None, {"a": 1}, np.array([1, None], dtype=object),
                                 np.array([1.0, 2.0], dtype=object), [1.0, None], "abc", {1, 2}])
def test_array_digest_refuses_what_would_hash_memory_addresses(bad):
    with pytest.raises(TypeError, match="a must be a numpy array"):
        cache.array_digest(bad)


def test_array_digest_of_objects_used_to_hash_pointers():
    # Before, two equal object arrays got different digests (their bytes are pointers).
    def values():  # new float objects each time: equal values, other addresses
        return np.array([[float(t)] for t in ("1000.5", "2.5")], dtype=object)

    x, y = values(), values()
    assert (x == y).all()
    old = _old_digest(str(x.dtype), str(x.shape), memoryview(np.ascontiguousarray(x)).cast("B"))
    assert old != _old_digest(str(y.dtype), str(y.shape), memoryview(np.ascontiguousarray(y)).cast("B"))
    with pytest.raises(TypeError, match="memory addresses"):
        cache.array_digest(x)


def test_array_digest_by_value_for_every_numeric_array():
    import torch

    a = np.arange(6.0).reshape(2, 3)
    assert cache.array_digest(a) == cache.array_digest(a.tolist()) == cache.array_digest(torch.tensor(a))
    assert cache.array_digest(torch.tensor(a, requires_grad=True)) == cache.array_digest(a)
    assert cache.array_digest(np.asfortranarray(a)) == cache.array_digest(a)
    # empty arrays (an error before), and 0-d arrays differ from 1-element ones
    assert cache.array_digest(np.zeros((0, 3))) != cache.array_digest(np.zeros((3, 0)))
    assert cache.array_digest(np.array(1.5)) != cache.array_digest(np.array([1.5]))
    assert cache.array_digest(np.array([np.nan])) == cache.array_digest(np.array([np.nan]))


def test_entries_accept_str_paths_and_refuse_bad_paths_and_payloads(tmp_path):
    path = str(tmp_path / "entry.bin")
    cache.write_entry(path, bytearray(b"payload"))
    assert cache.read_entry(path) == b"payload"
    assert cache.read_entry(str(tmp_path / "absent")) is None
    with pytest.raises(TypeError, match="payload must be bytes, got str; encode"):
        cache.write_entry(path, "payload")
    with pytest.raises(TypeError, match="payload must be bytes, got ndarray; save"):
        cache.write_entry(path, np.arange(3.0))
    for func in (cache.read_entry, lambda p: cache.write_entry(p, b"x")):
        with pytest.raises(TypeError, match="path must be a str or pathlib.Path, got NoneType"):
            func(None)
        with pytest.raises(ValueError, match="path must name a file, got an empty string"):
            func("")
        with pytest.raises(ValueError, match="path must name a file, got the directory"):
            func(tmp_path)
        with pytest.raises(ValueError, match="which is a file"):
            func(tmp_path / "entry.bin" / "below")


def test_cache_folder_that_is_a_file_names_gmmlab_cache(tmp_path, monkeypatch):
    (tmp_path / "file").write_bytes(b"")
    monkeypatch.setenv("GMMLAB_CACHE", str(tmp_path / "file"))
    with pytest.raises(ValueError, match="set GMMLAB_CACHE to a folder"):
        cache.memory()


def test_source_digest_of_modules_without_source_names_modules():
    import math
    import types

    for module in (sys, math, types.ModuleType("nowhere")):
        with pytest.raises(ValueError, match="source_digest expects modules with Python source files"):
            cache.source_digest(gmmlab.kmeans, module)
    with pytest.raises(TypeError, match="source_digest expects modules, got type"):
        cache.source_digest(gmmlab.kmeans.KMeans)
