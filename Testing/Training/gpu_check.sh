#!/usr/bin/env bash
# The GPU recipe in one call (issue 29, item 6): bash Testing/Training/gpu_check.sh [--minutes 8] [--output DIR]
cd "$(dirname "$0")/../.." && exec "${PYTHON:-.venv/bin/python}" Testing/Training/gpu_check.py --device cuda "$@"
