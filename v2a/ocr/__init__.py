"""Reading what is on screen: OCR of keyframes, code rebuilt from text positions, terms."""
