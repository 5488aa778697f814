"""One module per document example; each exposes ``run() -> dict[str, value]``."""
