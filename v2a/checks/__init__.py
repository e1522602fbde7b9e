"""What an editor should look at: each paragraph's sources, and the doubts (``checks.json``).

``v2a.sources`` aligns prose with the transcript sentences it came from; ``doubts`` finds the places
likeliest to be wrong (a word the recogniser was unsure of, a term the screen spells otherwise, a
number the speaker never said, a claim without support, speech no paragraph covers); ``build``
puts them in one ranked artifact; ``command`` is ``v2a check``.
"""
