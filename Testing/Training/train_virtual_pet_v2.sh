#!/usr/bin/env bash
# Retrain the virtual PET on phantom version 2 (arms, muscle groups, bowel, published HU/SUV; with and without IV
# contrast) and choose between it and the bundled version-1 model under a rule written before either was scored.
#   bash Testing/Training/train_virtual_pet_v2.sh [RUN_ROOT]        (default RUN_ROOT: ./runs)
# The same protocol for another phantom version or pix2pix settings (session 22: version 3 with a least-squares
# adversarial loss and a slower PatchGAN, since session 20's PatchGAN loss fell to ~5e-5 and stopped teaching):
#   PHANTOM_VERSION=3 RECIPE_EXTRA="--gan-loss lsgan --lr-d 1e-4" bash Testing/Training/train_virtual_pet_v2.sh ROOT
# and EPOCHS=N for a shorter run, e.g. session 24's fine-tune of the bundled networks (HISTORY.md):
#   PHANTOM_VERSION=3 EPOCHS=1 RECIPE_EXTRA="--init-weights ROOT/incumbent_model/virtual_pet_phantom.safetensors
#     --overshoot-factor 4 --overshoot-threshold 2.5 --lr 5e-5 --lr-d 2e-4" bash Testing/Training/train_virtual_pet_v2.sh ROOT
# (use a RUN_ROOT of its own: the score and choice files have fixed names). BLEND_VETO=V scores both models (selection,
# real CTs, held out) with `--blend-veto V` and writes it into an installed candidate's card, e.g. BLEND_VETO=1.0 as
# the bundled card since session 27 (without it, each model is scored with its own card's blend).
# TRAIN_SEEDS="P V" draws the training phantoms from other seeds (default "41 42"; session 31: "141 142", new subjects
# at the same dose, set beside session 30's run over the same 72 again).
# Safe to interrupt: run it again and finished steps are skipped, the training resumes from its last checkpoint.
#
# Data (phantoms only, never patients), 4 mm CT voxels:
#   training   72 cases: 48 without contrast (seed 41) + 24 portal-venous (seed 42)
#   selection  16 cases:  8 without contrast (seed 43) +  8 portal-venous (seed 44)
#   held-out   24 cases: 12 without contrast (seed 45) + 12 portal-venous (seed 46), and 32 portal-venous cases of
#              the two classes that carry liver metastases (seed 47, scored inside the liver) -- both generated only
#              after the choice below was made, and never used for any choice; the chosen model is scored first,
#              the other one after it (for comparison only).
# Recipe: the bundled model's (train_virtual_pet.sh: FCN-4s width 0.25 + U-Net pix2pix width 0.25 depth 7, resize
# up-sampling, 5 CT slices, 128 x 128 slices, lesion slices 5 x, (1 + SUV)^2 weight from the larger of true and
# predicted SUV, 3 epochs, one thread) on the version-2 data; nothing else changes, so the data is what is tested.
#
# SELECTION RULE (written before any candidate was scored; session 20):
#   Candidate = the run below; incumbent = the bundled virtual-pet-phantom (trained on version-1 phantoms).
#   Both scored on the 16 selection phantoms with 12 mm slice smoothing, and on the real CTs in ../shared/data with
#   virtual_pet_real_ct_physiology.py. Bundle the candidate only if ALL hold:
#     1. blended false positives per scan  <= the incumbent's;
#     2. blended TPR                      >= the incumbent's - 0.05;
#     (1 and 2 counted by the margin rule of issue 29: `margin TPR`, `margin FP / scan` in evaluate-virtual-pet:
#     found = virtual PET > 2.5 SUV within one voxel of the lesion; false = a region >= 0.5 ml above 2.5 lying two
#     voxels or more from any true uptake above 2.5 and one voxel from any lesion)
#     3. on the real CTs, the mean over CTs of |muscle SUVmean - 0.8| (the middle of the published 0.6-1.0)
#        <= the incumbent's, and the largest SUV outside the body <= the incumbent's.
#   Otherwise the incumbent stays and the note reports the candidate's figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="${1:-runs}"
MGS=".venv/bin/medgansynth"
V="${PHANTOM_VERSION:-2}"
read -r -a RECIPE_EXTRA <<< "${RECIPE_EXTRA:-}"
VETO=()
[ -n "${BLEND_VETO:-}" ] && VETO=(--blend-veto "$BLEND_VETO")
mkdir -p "$ROOT/data" "$ROOT/incumbent_model"
# The incumbent as it was before this script could replace it (scored beside the candidate, and after the choice).
INCUMBENT="$ROOT/incumbent_model/virtual_pet_phantom.safetensors"
[ -f "$INCUMBENT" ] || cp Resources/Models/virtual_pet_phantom.safetensors Resources/Models/virtual_pet_phantom.json \
  "$ROOT/incumbent_model/"

source Testing/Training/run_folders.sh  # phantoms, mix, into

read -r PLAIN_SEED PV_SEED <<< "${TRAIN_SEEDS:-41 42}"
phantoms v${V}_train_plain 48 "$PLAIN_SEED" none
phantoms v${V}_train_pv 24 "$PV_SEED" portal-venous
mix v${V}_train72 v${V}_train_plain v${V}_train_pv
phantoms v${V}_sel_plain 8 43 none
phantoms v${V}_sel_pv 8 44 portal-venous
mix v${V}_sel16 v${V}_sel_plain v${V}_sel_pv

RUN="$ROOT/virtual_pet_v$V"
ARGS=(--epochs "${EPOCHS:-3}" --batch-size 8 --seed 31 --threads 1 --checkpoint-every 1 --checkpoint-steps 1000 --progress-lines)
if [ ! -f "$RUN/weights/virtual_pet.safetensors" ]; then
  if [ -f "$RUN/checkpoints/checkpoint_last.pt" ]; then
    $MGS train-virtual-pet -o "$RUN" --resume "${ARGS[@]}" >> "$RUN.log" 2>&1
  else
    $MGS train-virtual-pet --data "$ROOT/data/v${V}_train72" -o "$RUN" "${ARGS[@]}" \
      --width-fcn 0.25 --width-gan 0.25 --depth 7 --gan-upsampling resize --context-slices 2 --slice-size 128 \
      --lesion-repeats 5 --suv-weight-power 2 --symmetric-suv-weight ${RECIPE_EXTRA[@]+"${RECIPE_EXTRA[@]}"} > "$RUN.log" 2>&1
  fi
fi

# Selection: both models on the selection set and on the real CTs.
score() {  # score NAME MODEL
  [ -f "$ROOT/$1_selection.json" ] || into "$ROOT/$1_selection.json" $MGS evaluate-virtual-pet \
    --data "$ROOT/data/v${V}_sel16" --model "$2" -o "$ROOT/$1_selection" --device cpu --threads 1 --slice-smoothing 12 \
    ${VETO[@]+"${VETO[@]}"} --json --overwrite
  [ -f "$ROOT/$1_real_ct.json" ] || into "$ROOT/$1_real_ct.json" .venv/bin/python \
    Testing/Training/virtual_pet_real_ct_physiology.py --model "$2" ${VETO[@]+"${VETO[@]}"} --json
}
score incumbent "$INCUMBENT"
score candidate "$RUN/weights/virtual_pet.safetensors"
.venv/bin/python Testing/Training/virtual_pet_v2_choice.py "$ROOT" "$V" | tee "$ROOT/v${V}_choice.txt"

# Install the chosen model (a new one at float16, with its card's training data, statistics and selection figures)
# and record its real-CT figures; then the held-out figures, made only now (after the choice), go into its card.
[ -f "$ROOT/v${V}_choice.json" ] || { echo "no choice recorded; see $ROOT/v${V}_choice.txt" >&2; exit 1; }
.venv/bin/python Testing/Training/install_virtual_pet_v2.py "$ROOT" "$V"
phantoms v${V}_held_plain 12 45 none
phantoms v${V}_held_pv 12 46 portal-venous
mix v${V}_held24 v${V}_held_plain v${V}_held_pv
phantoms v${V}_held_liver32 32 47 portal-venous --classes oesophagus,lung
BUNDLED=Resources/Models/virtual_pet_phantom.safetensors
CHOSEN=$(.venv/bin/python -c "import json,sys; print(json.load(open(sys.argv[1]))['chosen'])" "$ROOT/v${V}_choice.json")
OTHER=$([ "$CHOSEN" = candidate ] && echo "$INCUMBENT" || echo "$RUN/weights/virtual_pet.safetensors")
heldout() {  # heldout NAME MODEL [--write-card-metrics]
  [ -f "$ROOT/$1_heldout.json" ] || into "$ROOT/$1_heldout.json" $MGS evaluate-virtual-pet \
    --data "$ROOT/data/v${V}_held24" --model "$2" "${@:3}" -o "$ROOT/$1_heldout" --device cpu --threads 1 \
    --slice-smoothing 12 ${VETO[@]+"${VETO[@]}"} --json --overwrite
  [ -f "$ROOT/$1_liver.json" ] || into "$ROOT/$1_liver.json" $MGS evaluate-virtual-pet \
    --data "$ROOT/data/v${V}_held_liver32" --model "$2" "${@:3}" -o "$ROOT/$1_liver" --device cpu --threads 1 \
    --slice-smoothing 12 ${VETO[@]+"${VETO[@]}"} --region liver --json --overwrite
}
if [ "$CHOSEN" = candidate ]; then
  heldout bundled "$BUNDLED" --write-card-metrics
  .venv/bin/python Testing/Training/install_virtual_pet_v2.py "$ROOT" "$V" --heldout
else  # the incumbent keeps the held-out figures of its own phantoms; these are reported beside them (HISTORY.md)
  heldout bundled "$BUNDLED"
fi
.venv/bin/python Testing/Training/model_card_markdown.py
heldout other "$OTHER"     # for comparison only
echo "chosen: $CHOSEN"
