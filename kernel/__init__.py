"""The shared kernel: the vocabulary (model), errors, configuration and hashing used by every layer."""
