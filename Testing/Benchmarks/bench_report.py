"""How every benchmark script prints its measurements: one ``name: value`` line each, then JSON on request."""

from __future__ import annotations

import json


def print_results(results: dict, as_json: bool = False) -> None:
    for name, value in results.items():
        print(f"{name}: {value:.4g}" if isinstance(value, float) else f"{name}: {value}")
    if as_json:
        print(json.dumps(results, indent=2))
