#!/usr/bin/env bash
# tools/bench.sh: measure llmboot against llama.cpp and rewrite the "llama.cpp comparison"
# section of docs/benchmarks.md (the rest of the file is kept). ./build.sh bench calls it.
#
# Takes:    [-p N] [-n N] [-r N]        llmboot bench sizes (default 128, 64, 3: llama-bench's)
#           [--types "F16 Q8_0 ..."]    weight types (default: F16 Q8_0 Q4_0 Q4_K_M Q6_K Q5_K_M Q3_K_M Q2_K BF16;
#                                       llama.cpp's figures cover the first five)
#           [--threads "2 1"]           thread counts for the 1.1B models (default: 2 1)
#           [--no-doc]                  measure and keep the JSON, leave docs/benchmarks.md alone
#           (F16, Q8_0 and Q4_0 also get a 2-thread prompt run with --fast-prompt, the blockwise kernels)
#           LLMBOOT_CACHE               model cache (default ~/.cache/llmboot); Go on PATH
# Produces: $LLMBOOT_CACHE/models/tinyllama-1.1b-<TYPE>.gguf, generated once (0.4-2.2 GB each,
#           9.6 GB for all nine), out/bench/results-<date>.jsonl (every llmboot bench --json
#           line), docs/benchmarks.md's section.
# Runs:     generating a missing model: 20 s of CPU (F16, Q8_0, Q4_0), 95 s (Q6_K), 190 s (Q4_K_M),
#           135 s (Q3_K_M), 180 s (Q2_K), 300 s (Q5_K_M; these three measured on one thread of a busy
#           machine), BF16 as F16, about half in wall time on 2 idle cores; memory stays under 30 MB. The benchmarks:
#           seconds per type with SIMD kernels; with the scalar kernels (seconds per token) the
#           defaults take hours: try `tools/bench.sh -p 8 -n 4 -r 1 --types Q4_0 --threads 2`.
set -euo pipefail
cd "$(dirname "$0")/.."

P=128 N=64 R=3
TYPES="F16 Q8_0 Q4_0 Q4_K_M Q6_K Q5_K_M Q3_K_M Q2_K BF16"
THREADS="2 1"
DOC=1
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
	case $1 in
	-p) P=${2:?-p needs a number}; shift 2 ;;
	-n) N=${2:?-n needs a number}; shift 2 ;;
	-r) R=${2:?-r needs a number}; shift 2 ;;
	--types) TYPES=${2:?--types needs a list}; shift 2 ;;
	--threads) THREADS=${2:?--threads needs a list}; shift 2 ;;
	--no-doc) DOC=0; shift ;;
	-h|--help) usage 0 ;;
	*) echo "tools/bench.sh: unknown argument $1" >&2; usage ;;
	esac
done

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'tools/bench.sh: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH (./build.sh deps installs it)"
CACHE=${LLMBOOT_CACHE:-$HOME/.cache/llmboot}
MODELS=$CACHE/models
VOCAB=testdata/models/vocab/ggml-vocab-llama-spm.gguf
STORIES=testdata/models/gguf/stories260K.gguf
[ -f "$VOCAB" ] || die "$VOCAB is missing"
mkdir -p "$MODELS" out/bench
BIN=out/bench/llmboot
RESULTS=out/bench/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl

log "building $BIN"
CGO_ENABLED=0 go build -trimpath -o "$BIN" ./uroot-cmds/llmboot || die "build failed"
: >"$RESULTS"

for t in $TYPES; do
	m=$MODELS/tinyllama-1.1b-$t.gguf
	if [ -f "$m" ]; then
		log "have $m"
		continue
	fi
	log "generating $m (random weights, seed 1)"
	"$BIN" gen-model --preset tinyllama-1.1b --type "$t" --seed 1 --vocab-from "$VOCAB" "$m" >&2 ||
		die "gen-model $t failed"
done

log "memory bandwidth (1 GiB, 1 and 2 threads)"
"$BIN" bench --membw -t 2 --json >>"$RESULTS" || die "bandwidth probe failed"

for t in $TYPES; do
	for th in $THREADS; do
		log "bench $t, $th thread(s), -p $P -n $N -r $R (load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo ?))"
		"$BIN" bench "$MODELS/tinyllama-1.1b-$t.gguf" -t "$th" -p "$P" -n "$N" -r "$R" --json >>"$RESULTS" ||
			die "bench $t -t $th failed"
	done
done

for t in $TYPES; do
	case $t in F16 | Q8_0 | Q4_0) ;; *) continue ;; esac
	log "bench $t --fast-prompt, 2 threads, -p $P -n 0 -r $R (load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo ?))"
	"$BIN" bench "$MODELS/tinyllama-1.1b-$t.gguf" -t 2 -p "$P" -n 0 -r "$R" --fast-prompt --json >>"$RESULTS" ||
		die "bench $t --fast-prompt failed"
done

log "bench stories260K, 1 thread"
"$BIN" bench "$STORIES" -t 1 -p "$P" -n "$N" -r "$R" --json >>"$RESULTS" || die "bench stories260K failed"

log "memory bandwidth again"
"$BIN" bench --membw -t 2 --json >>"$RESULTS" || die "bandwidth probe failed"

log "results in $RESULTS"
if [ "$DOC" = 1 ]; then
	go run ./tools/benchdoc -doc docs/benchmarks.md -in "$RESULTS" \
		-cmd "tools/bench.sh -p $P -n $N -r $R --types '$TYPES' --threads '$THREADS'" || die "benchdoc failed"
	log "rewrote the llama.cpp comparison section of docs/benchmarks.md"
fi
