"""User-facing errors: the CLI prints these as one line and exits non-zero, no traceback."""


class V2AError(Exception):
    """A problem the user can act on (bad input, missing tool, unreachable endpoint)."""

    exit_code = 1


class InputError(V2AError):
    """The source given by the user cannot be used (missing, not media, truncated...)."""

    exit_code = 2


class UsageError(V2AError):
    """A command line or configuration the program cannot accept (unknown choice, bad value)."""

    exit_code = 2


class DownloadError(V2AError):
    """yt-dlp could not resolve or download the source."""


class MediaError(V2AError):
    """ffmpeg/ffprobe rejected the media."""


class ModelError(V2AError):
    """A model (Whisper, GGUF) cannot be found, assembled or verified."""


class LLMError(V2AError):
    """The LLM endpoint failed in a way retries could not fix."""
