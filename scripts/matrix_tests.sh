#!/usr/bin/env bash
# The tests of real-model output under other thread counts and CTranslate2 compute types (docs/testing.md).
#
#   bash scripts/matrix_tests.sh                  # 1 and 2 threads x int8 and float32: four runs
#   bash scripts/matrix_tests.sh 1:int8 2:float32 # only these settings
#   bash scripts/matrix_tests.sh 2:int8 -- -x     # pytest options after --
#   MATRIX_FILES="tests/test_asr.py tests/test_asr_multilingual.py" bash scripts/matrix_tests.sh 1:float32
#
# THREADS:TYPE sets OMP_NUM_THREADS (torch, onnxruntime, and faster-whisper's default thread count) and
# VIDEOCHAT_ASR_COMPUTE_TYPE (faster-whisper on a CPU). With fewer threads than cores the run is pinned to
# that many cores (taskset), so llama.cpp, which takes the usable cores, runs on as many threads too.
# A summary line per setting goes to stdout; each run's log to $MATRIX_LOGS (default: /tmp/videochat-matrix).
set -uo pipefail
cd "$(dirname "$0")/.."

FILES=(tests/test_asr.py tests/test_asr_multilingual.py tests/test_ocr.py tests/test_detect_tflite.py
       tests/test_tags.py tests/test_encoder.py tests/test_chat.py tests/test_evidence_llm.py tests/test_cli_chat.py
       tests/test_mangled.py tests/test_textualize.py tests/test_perceive_cli.py tests/test_throughput.py
       tests/test_report_browser.py tests/test_ray_cluster.py)
[[ -n ${MATRIX_FILES:-} ]] && read -ra FILES <<<"$MATRIX_FILES"   # another selection, e.g. the ASR files only

settings=() extra=()
while (($#)); do
    if [[ $1 == -- ]]; then shift; extra=("$@"); break; fi
    settings+=("$1"); shift
done
((${#settings[@]})) || settings=(1:int8 1:float32 2:int8 2:float32)
logs=${MATRIX_LOGS:-/tmp/videochat-matrix}
mkdir -p "$logs"
cores=$(nproc)
status=0
echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $cores cores"
for setting in "${settings[@]}"; do
    threads=${setting%%:*} type=${setting#*:}
    pin=()
    ((threads < cores)) && pin=(taskset -c "0-$((threads - 1))")
    log="$logs/threads$threads-$type.log"
    start=$SECONDS
    OMP_NUM_THREADS=$threads VIDEOCHAT_ASR_COMPUTE_TYPE=$type "${pin[@]}" \
        python -m pytest -q -p no:cacheprovider "${FILES[@]}" "${extra[@]}" >"$log" 2>&1
    rc=$?
    ((rc == 0)) || status=1
    echo "threads=$threads compute_type=$type: $(grep -E '^(FAILED|ERROR) ' "$log" | wc -l) failing;" \
         "$(grep -E '[0-9]+ (passed|failed)' "$log" | tail -1 | tr -d '=' | xargs) ($((SECONDS - start)) s, log $log)"
    grep -E '^(FAILED|ERROR) ' "$log"
done
exit $status
