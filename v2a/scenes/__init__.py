"""Scene (slide) detection and keyframes."""
