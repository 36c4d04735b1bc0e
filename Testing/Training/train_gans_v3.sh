#!/usr/bin/env bash
# RadioGAN and the CT GAN on the version-3 phantoms (issue 29 item 7). Candidates, not bundled by running this:
# the choice is made on the selection split under the rule in HISTORY.md ("## The GANs on version-3 phantoms"),
# written before any candidate was scored.
#   bash Testing/Training/train_gans_v3.sh [RUN_ROOT] [STEPS]   (default RUN_ROOT ./runs_v3, STEPS "mipdata ctdata ct finetune")
# STEPS: mipdata, ctdata (the data sets), ct (CT GAN, 64 x 64, from scratch), ct_slow (the same, slower generator, 80 epochs), ct_ema (ct_slow with a generator average, stages 80 and 120; session 33), ct_ema_score (its stages scored and chosen), finetune (the bundled RadioGAN fine-tuned on
# version-3 MIPs), finetune_gentle (the same at 2e-5 with random wrong labels), scratch (RadioGAN from scratch with the bundled recipe, 700 epochs: hours, resumable), stages (the same
# recipe exported and scored at epochs 200, 300, 400 and 500), stages_augment (the same with --augment), stages_translation (the same, translation
# only; session 32), incumbent (the bundled RadioGAN scored on the selection and held-out splits), install (after bundle's held-out check), bundle (the chosen
# stage's held-out score and card, session 28).
# Safe to interrupt: run it again and finished steps are skipped, unfinished runs resume from their last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="${1:-runs_v3}"
STEPS="${2:-mipdata ctdata ct finetune}"
MGS=".venv/bin/medgansynth"
mkdir -p "$ROOT"
wanted() { [[ " $STEPS " == *" $1 "* ]]; }

# Data: the bundled models' splits and seeds, version-3 phantoms. MIPs as train_bundled_gans.sh (140 per class of
# which 20 held out, 20 more for selection); CT: 40 subjects (8 held out) plus 8 for selection, 32 chest slices
# each at 64 x 64 (seed 004's size), cut from whole-body cases apex to base.
if wanted mipdata; then
  [ -f "$ROOT/data/mip/dataset.json" ] || $MGS dataset mip --phantoms 140 --heldout 20 --selection 20 --seed 1 \
    --phantom-version 3 -o "$ROOT/data/mip" --progress-lines > "$ROOT/data_mip.log" 2>&1
fi
if wanted ctdata; then
  [ -f "$ROOT/data/ct/dataset.json" ] || $MGS dataset ct --phantoms 40 --heldout 8 --selection 8 --seed 3 \
    --slices 32 --size 64 --phantom-version 3 -o "$ROOT/data/ct" --progress-lines > "$ROOT/data_ct.log" 2>&1
fi

source Testing/Training/resumable_train.sh

# The bundled CT GAN's recipe (train_bundled_gans.sh) at the full 64 x 64 instead of 40 x 40, with resize
# up-sampling: the same recipe with the paper's stride-2 transposed convolutions (run ct_gan_64, stopped at epoch 21)
# painted a 2-pixel grid over every body by epoch 10 (HISTORY.md, session 22).
wanted ct && train ct_gan_64_resize --architecture ct_gan --data "$ROOT/data/ct/train" --epochs 40 --image-size 64 \
  --width 0.5 --discriminator-norm spectral --discriminator-dropout 0 --minibatch-std --latent-coordinates \
  --global-latent 16 --generator-upsampling resize --lr 5e-4 --lr-d 2e-4 --checkpoint-every 5 --seed 14

# Session 24: the same at 64 x 64 with the generator at the discriminator's rate (2e-4, not 5e-4) for twice the
# epochs, after ct_gan_64_resize's samples saturated at +1000 HU (HISTORY.md; rule written before training).
wanted ct_slow && train ct_gan_64_slow --architecture ct_gan --data "$ROOT/data/ct/train" --epochs 80 --image-size 64 \
  --width 0.5 --discriminator-norm spectral --discriminator-dropout 0 --minibatch-std --latent-coordinates \
  --global-latent 16 --generator-upsampling resize --lr 2e-4 --lr-d 2e-4 --checkpoint-every 5 --seed 14
# Session 33: the same with a running average of the generator exported (--generator-ema 0.999) and trained longer,
# each stage's weights kept in RUN/stages/epoch_N (HISTORY.md; rule written before training, scored on the
# selection slices by ct_gan_stage_choice.py).
ct_stages() {  # ct_stages RUN_NAME EPOCHS... -- train arguments
  local run="$ROOT/$1"; shift; local stops=()
  while [ "$1" != "--" ]; do stops+=("$1"); shift; done; shift
  for epochs in "${stops[@]}"; do
    local stage="$run/stages/epoch_$epochs"
    [ -f "$stage/ct_gan.safetensors" ] && continue
    if [ -f "$run/checkpoints/checkpoint_last.pt" ]; then
      $MGS train -o "$run" --resume --epochs "$epochs" --threads 1 --progress-lines >> "$run.log" 2>&1
    else
      $MGS train -o "$run" --epochs "$epochs" --threads 1 --progress-lines "$@" > "$run.log" 2>&1
    fi
    mkdir -p "$stage.tmp" && cp "$run"/weights/ct_gan.* "$stage.tmp/" && mv "$stage.tmp" "$stage"
  done
}
wanted ct_ema && ct_stages ct_gan_64_ema 80 120 -- --architecture ct_gan --data "$ROOT/data/ct/train" --image-size 64 \
  --width 0.5 --discriminator-norm spectral --discriminator-dropout 0 --minibatch-std --latent-coordinates \
  --global-latent 16 --generator-upsampling resize --lr 2e-4 --lr-d 2e-4 --generator-ema 0.999 --checkpoint-every 5 \
  --seed 14
# ct_ema_score: each trained stage scored on the selection slices (memorisation and grid texture by evaluate-gan,
# tissue shares and spread by ct_gan_real_ct_tissues.py), then ct_gan_stage_choice.py applies the rule.
if wanted ct_ema_score; then
  for stage in "$ROOT"/ct_gan_64_ema/stages/epoch_*; do
    [[ -f "$stage/ct_gan.safetensors" && ! -f "$stage.tissues.json" ]] || continue
    $MGS evaluate-gan "$stage/ct_gan.safetensors" --data "$ROOT/data/ct" --against selection --count 100 \
      -o "$stage.selection" --json --overwrite > "$stage.selection.json.tmp" 2> "$stage.selection.log" \
      && mv "$stage.selection.json.tmp" "$stage.selection.json"
    .venv/bin/python Testing/Training/ct_gan_real_ct_tissues.py "$stage/ct_gan.safetensors" --data "$ROOT/data/ct" \
      --split selection --json > "$stage.tissues.json.tmp" && mv "$stage.tissues.json.tmp" "$stage.tissues.json"
  done
  .venv/bin/python Testing/Training/ct_gan_stage_choice.py $(ls -d "$ROOT"/ct_gan_64_ema/stages/epoch_* | grep -v "\.")
fi
# The bundled RadioGAN (version-1 MIPs) fine-tuned on version-3 MIPs: the session-13 fine-tune's settings at
# five times its rate, since the bodies change (arms, shoulders, a waist), not only the classes.
wanted finetune && train radiogan_v3_finetune --init-weights Resources/Models/radiogan_phantom.safetensors \
  --data "$ROOT/data/mip/train" --epochs 100 --lr 1e-4 --loss hinge --mismatched-labels --hardest-mismatch \
  --checkpoint-every 5 --seed 11

# Session 23: the session-13 fine-tune's rate (2e-5) with random wrong labels, after the 1e-4 hardest-mismatch
# fine-tune above scattered specks (HISTORY.md, session 22).
wanted finetune_gentle && train radiogan_v3_finetune_gentle --init-weights Resources/Models/radiogan_phantom.safetensors \
  --data "$ROOT/data/mip/train" --epochs 100 --lr 2e-5 --loss hinge --mismatched-labels --checkpoint-every 5 --seed 11

wanted scratch && train radiogan_v3 --architecture radiogan --data "$ROOT/data/mip/train" --epochs 700 \
  --batch-size 32 --discriminator-norm spectral --discriminator-dropout 0 --loss hinge --class-projection \
  --minibatch-std --generator-upsampling resize --class-batchnorm --mismatched-labels --window 0,10 --lr 2e-4 \
  --lr-d 2e-4 --checkpoint-every 5 --seed 11
# Session 25: the same recipe and seed stopped earlier: one run extended stage by stage (--resume --epochs N), each
# stage's weights kept in RUN/stages/epoch_N and scored on the selection split under session 22's rule (HISTORY.md);
# Testing/Training/radiogan_stage_choice.py applies the rule. stages_augment: the same with --augment
# translation,cutout (differentiable augmentation of what the discriminator sees, against memorising).
# STAGE_EPOCHS (default "200 300 400 500") extends a run further (session 33: 600 700 800, resumed from epoch 500).
stages() {  # stages RUN_NAME [extra train arguments]
  local run="$ROOT/$1"; shift
  for epochs in ${STAGE_EPOCHS:-200 300 400 500}; do
    local stage="$run/stages/epoch_$epochs"
    [ -f "$stage.selection.json" ] && continue
    if [ ! -f "$stage/radiogan.safetensors" ]; then
      if [ -f "$run/checkpoints/checkpoint_last.pt" ]; then
        $MGS train -o "$run" --resume --epochs "$epochs" --threads 1 --progress-lines >> "$run.log" 2>&1
      else
        $MGS train -o "$run" --architecture radiogan --data "$ROOT/data/mip/train" --epochs "$epochs" \
          --batch-size 32 --discriminator-norm spectral --discriminator-dropout 0 --loss hinge --class-projection \
          --minibatch-std --generator-upsampling resize --class-batchnorm --mismatched-labels --window 0,10 \
          --lr 2e-4 --lr-d 2e-4 --checkpoint-every 5 --seed 11 --threads 1 --progress-lines "$@" > "$run.log" 2>&1
      fi
      mkdir -p "$stage.tmp" && cp "$run"/weights/radiogan.* "$stage.tmp/" && mv "$stage.tmp" "$stage"
    fi
    $MGS evaluate-gan "$stage/radiogan.safetensors" --data "$ROOT/data/mip" --against selection --count 100 \
      --epochs 40 --no-tstr --seed 0 --judges 3 -o "$stage.selection" --json --overwrite \
      > "$stage.selection.json.tmp" 2> "$stage.selection.log" && mv "$stage.selection.json.tmp" "$stage.selection.json"
  done
}
wanted stages && stages radiogan_v3_stages
wanted stages_augment && stages radiogan_v3_augment_stages --augment translation,cutout
# Session 32: translation alone (cutout can hide a small lung primary; session 28's augmented arm lost the lung
# class), and the incumbent re-scored on the same split and seed so that every row shares one panel of judges.
wanted stages_translation && stages radiogan_v3_translation_stages --augment translation
if wanted incumbent; then
  for split in selection:0 heldout:9; do
    out="$ROOT/incumbent.${split%%:*}"
    [ -f "$out.json" ] && continue
    $MGS evaluate-gan Resources/Models/radiogan_phantom.safetensors --data "$ROOT/data/mip" --against "${split%%:*}" \
      --count 100 --epochs 40 --no-tstr --seed "${split##*:}" --judges 3 -o "$out" --json --overwrite \
      > "$out.json.tmp" 2> "$out.log" && mv "$out.json.tmp" "$out.json"
  done
fi
# Session 28: the stage session 22's rule chose (augmented arm, epoch 500; HISTORY.md) scored on the held-out split
# with seed 9 and three judges, its card written beside a copy of its weights. Not installed: the incumbent scored
# higher on the same held-out split (HISTORY.md).
# BUNDLE_STAGE names another stage (session 32: the rule's choice among the translation-only stages).
if wanted bundle; then
  STAGE="${BUNDLE_STAGE:-radiogan_v3_augment_stages/stages/epoch_500}"
  mkdir -p "$ROOT/bundle" && cp "$ROOT/$STAGE"/radiogan.* "$ROOT/bundle/"
  $MGS evaluate-gan "$ROOT/bundle/radiogan.safetensors" --data "$ROOT/data/mip" -o "$ROOT/eval_radiogan" --count 100 \
    --epochs 40 --seed 9 --judges 3 --write-card
fi
# The bundle (BUNDLE_STAGE's model and its held-out card) installed as radiogan-phantom, with its card's Markdown and
# pictures: run only once its held-out worst class is at least the incumbent's there (HISTORY.md, session 32); the
# recipe radiogan-phantom (gan/training_settings.py) and its test then take the installed stage's flags.
if wanted install; then
  .venv/bin/python -c "import sys; from MedGANSynthLib.weights.install import install_gan; print(install_gan(sys.argv[1], \
    'Resources/Models', 'radiogan-phantom', 'RadioGAN: class-conditional coronal MIP PET (5 classes)'))" \
    "$ROOT/bundle/radiogan.safetensors"
  .venv/bin/python Testing/Training/model_card_markdown.py
  .venv/bin/python Testing/Training/radiogan_picture.py
  $MGS walk radiogan-phantom --class-a normal --class-b lymphoma --seed-a 3 -o "$ROOT/walk" --quiet --overwrite
  cp "$ROOT/walk/walk.png" Resources/Screenshots/radiogan_walk.png
fi
echo "finished: $STEPS under $ROOT"
