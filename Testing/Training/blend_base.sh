#!/bin/bash
# Session 31: take the bundled virtual PET's broad level from the FCN (--blend-base-levels 1)? HISTORY.md, "the blend's
# broad level from the FCN" and "base 1 retested on 48 fresh selection phantoms" (rules written before scoring).
#
#   bash Testing/Training/blend_base.sh ROOT
#
# Makes the version-5 phantom sets it needs under ROOT/data (the selection sets of train_virtual_pet_v2.sh, seeds
# 43/44, and 48 fresh ones, seeds 143/144), scores the bundled card (incumbent) and the same networks with base 1
# (candidate) on them and on the real CTs, applies the rule (blend_base_choice.py), and only after the choice makes
# the held-out sets (seeds 45-47) and writes the chosen blend's held-out figures into the bundled card, which makes
# that blend the card's default. ~45 min on one thread.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$1
MGS=".venv/bin/medgansynth"
V=5
BUNDLED=Resources/Models/virtual_pet_phantom.safetensors
export OMP_NUM_THREADS=1
mkdir -p "$ROOT/data"
source Testing/Training/run_folders.sh  # phantoms, mix, into
evaluate() {  # evaluate OUT DATA BASE [extra]: the bundled networks, veto 1.0, 12 mm, base BASE
  [ -f "$ROOT/$1.json" ] || into "$ROOT/$1.json" $MGS evaluate-virtual-pet --data "$ROOT/data/$2" --model "$BUNDLED" \
    -o "$ROOT/$1" --device cpu --threads 1 --slice-smoothing 12 --blend-veto 1.0 --blend-base-levels "$3" "${@:4}" \
    --json --overwrite --quiet
}

phantoms v5_sel_plain 8 43 none
phantoms v5_sel_pv 8 44 portal-venous
mix v5_sel16 v5_sel_plain v5_sel_pv
phantoms sel_plain143 32 143 none
phantoms sel_pv144 16 144 portal-venous
mix sel48 sel_plain143 sel_pv144
for pair in incumbent:0 candidate:1; do
  name=${pair%%:*} base=${pair##*:}
  evaluate "${name}_selection" v5_sel16 "$base"
  evaluate "${name}_sel48" sel48 "$base"
  [ -f "$ROOT/${name}_real_ct.json" ] || into "$ROOT/${name}_real_ct.json" .venv/bin/python \
    Testing/Training/virtual_pet_real_ct_physiology.py --blend-veto 1.0 --blend-base-levels "$base" --json
done
(cd Testing/Training && ../../.venv/bin/python blend_base_choice.py "$ROOT") | tee "$ROOT/choice.txt"
CHOSEN=$(.venv/bin/python -c "import json,sys; print(json.load(open(sys.argv[1]))['chosen'])" "$ROOT/v5_choice.json")
[ "$CHOSEN" = incumbent ] && { echo "the paper's base stays"; exit 0; }

# After the choice: held-out phantoms, the chosen blend first (into the card), the bundled card's after it.
phantoms v5_held_plain 12 45 none
phantoms v5_held_pv 12 46 portal-venous
mix v5_held24 v5_held_plain v5_held_pv
phantoms v5_held_liver32 32 47 portal-venous --classes oesophagus,lung
evaluate candidate_heldout v5_held24 1 --write-card-metrics
evaluate candidate_liver v5_held_liver32 1 --write-card-metrics --region liver
.venv/bin/python Testing/Training/install_virtual_pet_v2.py "$ROOT" 5 --heldout  # names the held-out sets
.venv/bin/python Testing/Training/install_virtual_pet_v2.py "$ROOT" 5            # the chosen blend's real-CT figures
(cd Testing/Training && ../../.venv/bin/python blend_base_choice.py "$ROOT" --record-selection)
.venv/bin/python Testing/Training/model_card_markdown.py
evaluate incumbent_heldout v5_held24 0
evaluate incumbent_liver v5_held_liver32 0 --region liver
