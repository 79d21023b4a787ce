"""One module per group of `akhbar` sub-commands; each defines ``register(app)``."""
