#!/bin/bash
# Session 27: choose the bundled virtual PET's blend veto level (HISTORY.md, "a veto level between the two").
#
#   bash Testing/Training/blend_veto.sh ROOT
#
# ROOT/data holds the version-5 phantom sets of train_virtual_pet_v2.sh (PHANTOM_VERSION=5; a link to that run's
# data folder will do): v5_sel16 for the choice, v5_held24 and v5_held_liver32 for the held-out figures. Scores the
# bundled model with the paper's blend (fcn) and each veto level on the selection phantoms and the real CTs,
# applies the rule written before scoring (blend_veto_choice.py), then - only after the choice - writes the held-out
# figures of the chosen blend into the bundled card, which makes that blend the card's default. ~25 min, one thread.
set -euo pipefail
ROOT=$1
LEVELS=(1.5 2.0 1.0)
MGS=".venv/bin/medgansynth"
BUNDLED=Resources/Models/virtual_pet_phantom.safetensors
export OMP_NUM_THREADS=1
source Testing/Training/run_folders.sh  # into
score() {  # score NAME [--blend-veto V]
  [ -f "$ROOT/$1_selection.json" ] || into "$ROOT/$1_selection.json" $MGS evaluate-virtual-pet \
    --data "$ROOT/data/v5_sel16" --model "$BUNDLED" -o "$ROOT/$1_selection" --device cpu --threads 1 \
    --slice-smoothing 12 "${@:2}" --json --overwrite --quiet
  [ -f "$ROOT/$1_real_ct.json" ] || into "$ROOT/$1_real_ct.json" .venv/bin/python \
    Testing/Training/virtual_pet_real_ct_physiology.py "${@:2}" --json
}
score fcn
for level in "${LEVELS[@]}"; do score "veto$level" --blend-veto "$level"; done
(cd Testing/Training && ../../.venv/bin/python blend_veto_choice.py "$ROOT" "${LEVELS[@]}") | tee "$ROOT/choice.txt"
CHOSEN=$(.venv/bin/python -c "import json,sys; print(json.load(open(sys.argv[1]))['chosen'])" "$ROOT/v5_choice.json")
[ "$CHOSEN" = fcn ] && { echo "the paper's blend stays"; exit 0; }
VETO=(--blend-veto "${CHOSEN#veto}")
[ -f "$ROOT/heldout.json" ] || into "$ROOT/heldout.json" $MGS evaluate-virtual-pet --data "$ROOT/data/v5_held24" \
  --model "$BUNDLED" "${VETO[@]}" --write-card-metrics -o "$ROOT/heldout" --device cpu --threads 1 \
  --slice-smoothing 12 --json --overwrite --quiet
[ -f "$ROOT/liver.json" ] || into "$ROOT/liver.json" $MGS evaluate-virtual-pet --data "$ROOT/data/v5_held_liver32" \
  --model "$BUNDLED" "${VETO[@]}" --write-card-metrics -o "$ROOT/liver" --device cpu --threads 1 \
  --slice-smoothing 12 --region liver --json --overwrite --quiet
.venv/bin/python Testing/Training/install_virtual_pet_v2.py "$ROOT" 5 --heldout  # names the held-out sets
.venv/bin/python Testing/Training/install_virtual_pet_v2.py "$ROOT" 5            # the chosen blend's real-CT figures
.venv/bin/python Testing/Training/model_card_markdown.py
