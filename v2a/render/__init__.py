"""The render stage: ``article.md`` (CommonMark) and ``article.html`` (one self-standing page).

``article.build_article`` turns the artifacts into one view model; ``markdown_article`` and
``html_article`` render that same model, so both files agree on sections, images and times.
Every time comes from transcript/scene data; everything from outside passes ``sanitize``.
"""
