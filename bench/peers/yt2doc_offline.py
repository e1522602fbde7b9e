"""Run yt2doc 0.3.3 offline: its sentence splitter (wtpsplit ``SaT("sat-3l")``) loads weights
from a model hub and no package ships them, so swap in a plain punctuation splitter.

Runs inside yt2doc's own venv (it pulls torch; kept outside v2a's set-up):
    <venv>/bin/python bench/peers/yt2doc_offline.py --video URL --whisper-model PATH ...
Everything else (yt-dlp download, faster-whisper, LLM topic segmentation, Markdown) is yt2doc's.
"""

from __future__ import annotations

import re
import sys

_SENTENCE = re.compile(r".*?(?:[.!?]+[\"')\]]*\s+|$)", re.S)


class SimpleSplitter:
    """Stands in for wtpsplit.SaT: sentences on end punctuation, paragraphs of 5 sentences.

    Sentences keep their exact characters (spaces included) because yt2doc aligns them back to
    Whisper segments character by character.
    """

    def __init__(self, *args, **kwargs):
        pass

    def split(self, text: str, do_paragraph_segmentation: bool = False, verbose: bool = False,
              **kwargs):
        sentences = [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0)]
        if not do_paragraph_segmentation:
            return sentences
        return [sentences[i:i + 5] for i in range(0, len(sentences), 5)] or [[text]]


def main() -> None:
    import yt2doc.factories as factories

    factories.SaT = SimpleSplitter
    from yt2doc.cli import app

    sys.argv[0] = "yt2doc"
    app()


if __name__ == "__main__":
    main()
