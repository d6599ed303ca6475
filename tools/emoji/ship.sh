#!/bin/bash
# Ship the DiT checkpoint in tools/emoji/out/dit.pt as public/models/emoji-dit (issue 12), after training:
#   1. train.py snapshot (the fp16 snapshot in tools/emoji/ckpt/ is exactly what ships);
#   2. export.py from the snapshot, with evaluate.py beside it (metrics.json, the sample grids);
#   3. calibrate the ERTACache plans with the forecast, in two copies of the export in parallel
#      (50 steps at 25,34 | 50 steps at 17, then 8 steps at 5, then the peers' thresholds at both
#      step counts on seeds 0-3: an adaptive threshold needs more samples to hold its budget on
#      unseen seeds), and merge the copies' plan lists;
#   4. model_card.py, then the emoji unit tests (goldens, CLI, fp16, bench report, demo).
# About 25 minutes on two idle cores. Usage: bash tools/emoji/ship.sh   (PYTHON=... to pick the interpreter)
# The classifier is not retrained here, so its files are restored from git after the export rewrites them.
set -euo pipefail
cd "$(dirname "$0")/../.."
P=${PYTHON:-/usr/bin/python3}
M=public/models/emoji-dit
T=$(mktemp -d /tmp/emoji-ship.XXXXXX)
log() { echo "[ship $(date -u +%T)] $*"; }

log "snapshot"
$P tools/emoji/train.py snapshot
# export and evaluate read the data from out/, every stage's weights from ckpt/ (the committed snapshot)
mkdir -p "$T/src" "$T/grid"
for f in dataset.pt tokenizer.json latents.pt; do ln -s "$PWD/tools/emoji/out/$f" "$T/src/$f"; done
log "export + evaluate (logs: $T/export.log, $T/eval.log)"
OMP_NUM_THREADS=1 $P tools/emoji/evaluate.py --src "$T/src" --steps 20 --guidance 4.0 --threads 1 \
  --json tools/emoji/ckpt/metrics.json --grid "$T/grid/samples.png" > "$T/eval.log" 2>&1 &
EV=$!
OMP_NUM_THREADS=1 $P tools/emoji/export.py --src "$T/src" --out $M \
  --classifier-out public/models/emoji-classifier --golden tools/golden/emoji-dit > "$T/export.log" 2>&1
wait $EV
tail -n 5 "$T/eval.log"
cp "$T/grid/samples.png" "$T/grid/samples-held-in.png" $M/
git checkout -- public/models/emoji-classifier

log "calibrate (logs: $T/cal*.log)"
rm -rf $M/plans
cp -r $M "$T/a"; cp -r $M "$T/b"
C="--threads 1 --json"
{ npm run calibrate -- --model "$T/a" --steps 50 --budget 25,34 --seeds 0 --no-peers $C > "$T/calA1.log" 2>&1 &&
  npm run calibrate -- --model "$T/a" --steps 8 --budget 5 --seeds 0-3 --peers-only $C > "$T/calA2.log" 2>&1; } &
A=$!
{ npm run calibrate -- --model "$T/b" --steps 50 --budget 17 --seeds 0 --no-peers $C > "$T/calB1.log" 2>&1 &&
  npm run calibrate -- --model "$T/b" --steps 8 --budget 5 --seeds 0 --no-peers $C > "$T/calB2.log" 2>&1 &&
  npm run calibrate -- --model "$T/b" --steps 50 --budget 34,25,17 --seeds 0-3 --peers-only $C > "$T/calB3.log" 2>&1; } &
B=$!
wait $A; wait $B
tail -n 1 "$T"/cal*.log | cut -c1-400
mkdir -p $M/plans
cp "$T"/a/plans/*.json "$T"/b/plans/*.json $M/plans/
$P - "$M/manifest.json" "$T/a/manifest.json" "$T/b/manifest.json" <<'PY'
import json, sys
out, *copies = sys.argv[1:]
m = json.load(open(out))
plans = {}
for src in copies:
    for p in json.load(open(src))['plans']:
        plans[p['file']] = p
m['plans'] = sorted(plans.values(), key=lambda p: p['file'])
with open(out, 'w') as f:
    json.dump(m, f, indent=2)
    f.write('\n')
print(len(m['plans']), 'plans merged into', out)
PY

log "model card + tests"
$P tools/emoji/model_card.py
npx vitest run src/backend/emoji-golden.test.ts src/cli/cli-emoji.test.ts src/model-tool/fp16.test.ts \
  src/bench/report.test.ts src/demo/demo.test.ts src/cli/bench-text.test.ts src/cli/bench-speed.test.ts
log "done (logs and the two calibrated copies stay in $T); next: npm run bench -- --model $M --budgets 34,25,17 --seeds 1 --repeats 20 --no-browser --no-scaling --json"
