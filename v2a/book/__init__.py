"""The book of a batch: its videos as parts, with a front page, contents, a series glossary, an
index of key terms and cross-references between parts, in every export format (``v2a book``)."""
