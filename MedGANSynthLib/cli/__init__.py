"""The ``medgansynth`` command line. One module per subcommand; each exposes ``register(subparsers)``."""
