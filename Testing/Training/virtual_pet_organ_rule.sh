#!/bin/bash
# Session 33's rule for the next virtual-PET candidate (HISTORY.md, written before any candidate existed): the
# bundled model and CANDIDATE, both with the bundled card's blend and slice smoothing, scored on the selection
# phantoms (seeds 43/44), the real CTs and the organ-level phantoms (seeds 246/247), then
# virtual_pet_organ_choice.py applies the rule.
#
#   bash Testing/Training/virtual_pet_organ_rule.sh ROOT CANDIDATE.safetensors     (e.g. a gpu_check.py run's
#                                                   vpet_run/weights/virtual_pet.safetensors; ~40 min on one thread)
#
# Safe to interrupt: finished scores are kept and skipped. The held-out phantoms for a chosen candidate's card are
# made after the choice, as in blend_base.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$1 CANDIDATE=$2
export OMP_NUM_THREADS=1
mkdir -p "$ROOT/data"
source Testing/Training/run_folders.sh  # phantoms, mix, into; MGS, V (5) and BUNDLED
# The bundled card's post-processing, as evaluate-virtual-pet options (the measuring scripts take the same names).
read -r -a POST <<< "$(cd Testing/Training && ../../.venv/bin/python -c \
  "import gpu_check; print(' '.join(gpu_check.bundled_postprocessing()))")"

phantoms v5_sel_plain 8 43 none
phantoms v5_sel_pv 8 44 portal-venous
mix v5_sel16 v5_sel_plain v5_sel_pv
phantoms bias_plain246 8 246 none
phantoms bias_pv247 8 247 portal-venous
for pair in "incumbent:$BUNDLED" "candidate:$CANDIDATE"; do
  name=${pair%%:*} model=${pair#*:}
  [ -f "$ROOT/${name}_selection.json" ] || into "$ROOT/${name}_selection.json" $MGS evaluate-virtual-pet \
    --data "$ROOT/data/v5_sel16" --model "$model" -o "$ROOT/${name}_selection" --device cpu --threads 1 "${POST[@]}" \
    --json --overwrite --quiet
  [ -f "$ROOT/${name}_real_ct.json" ] || into "$ROOT/${name}_real_ct.json" .venv/bin/python \
    Testing/Training/virtual_pet_real_ct_physiology.py --model "$model" "${POST[@]}" --json
  for phase in plain:bias_plain246 pv:bias_pv247; do
    out="$ROOT/${name}_bias_${phase%%:*}.json"
    [ -f "$out" ] || into "$out" .venv/bin/python Testing/Training/virtual_pet_organ_bias.py "$ROOT/data/${phase#*:}" \
      --model "$model" "${POST[@]}" --json
  done
done
.venv/bin/python Testing/Training/virtual_pet_organ_choice.py "$ROOT" | tee "$ROOT/organ_choice.txt"
