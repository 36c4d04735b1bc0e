#!/usr/bin/env bash
# The GPU recipe in one call (issue 29, item 6): bash Testing/Training/gpu_check.sh [--minutes 8] [--output DIR]
# Its virtual PET (OUT/vpet_run/weights/virtual_pet.safetensors) is then judged on the CPU by session 33's rule:
#   bash Testing/Training/virtual_pet_organ_rule.sh ROOT OUT/vpet_run/weights/virtual_pet.safetensors
cd "$(dirname "$0")/../.." && PY="${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}"
exec "$PY" Testing/Training/gpu_check.py --device cuda "$@"
