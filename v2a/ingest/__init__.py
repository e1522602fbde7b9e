"""Stage 1: find the work folder for a source, download or locate the media, record metadata."""
