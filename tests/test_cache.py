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
