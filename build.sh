#!/usr/bin/env bash
# build.sh: every build, run and test entry point of llmboot.
#
#   ./build.sh run [ARGS...]   build llmboot and generate a story from the bundled model
#   ./build.sh test            gofmt, go vet, staticcheck, go test (what CI runs)
#   ./build.sh build           build bin/llmboot (static, CGO_ENABLED=0)
#   ./build.sh fuzz [TIME]     run every fuzz target for TIME each (default 5m)
#   ./build.sh deps            install what the others need (Go 1.26, staticcheck)
set -euo pipefail
cd "$(dirname "$0")"

GO_VERSION=1.26.8
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
CACHE=${LLMBOOT_CACHE:-$HOME/.cache/llmboot}
DEMO_MODEL=testdata/models/gguf/stories260K.gguf

log() { printf '==> %s\n' "$*" >&2; }

# go_ok: a go command of at least 1.26 is on PATH.
go_ok() {
	command -v go >/dev/null 2>&1 || return 1
	local v
	v=$(go env GOVERSION 2>/dev/null) || return 1
	v=${v#go}
	local major=${v%%.*} rest=${v#*.}
	local minor=${rest%%.*}
	[ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "${minor%%[!0-9]*}" -ge 26 ]; }
}

# deps_go installs Go from the Go module proxy's toolchain zips (the only
# Go download these machines reach) when no Go 1.26+ is present.
deps_go() {
	export PATH=$PATH:/usr/local/go/bin:$CACHE/go/bin
	go_ok && return 0
	log "installing Go $GO_VERSION into $CACHE/go"
	command -v curl >/dev/null && command -v unzip >/dev/null || {
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl unzip ca-certificates >/dev/null
	}
	local zip
	zip=$(mktemp)
	curl -fsSL -o "$zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-amd64.zip"
	rm -rf "$CACHE/go" "$CACHE/go.tmp"
	mkdir -p "$CACHE/go.tmp"
	unzip -q "$zip" -d "$CACHE/go.tmp"
	rm -f "$zip"
	mv "$CACHE/go.tmp/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64" "$CACHE/go"
	rm -rf "$CACHE/go.tmp"
	chmod +x "$CACHE/go/bin/"* "$CACHE/go/pkg/tool/"*/* 2>/dev/null || true
	export PATH=$CACHE/go/bin:$PATH
	go_ok || { echo "build.sh: installed Go does not run" >&2; exit 1; }
}

cmd_deps() {
	deps_go
}

cmd_build() {
	deps_go
	mkdir -p bin
	CGO_ENABLED=0 go build -trimpath -o bin/llmboot ./uroot-cmds/llmboot
	log "built bin/llmboot"
}

cmd_run() {
	cmd_build
	if [ $# -eq 0 ]; then
		set -- run "$DEMO_MODEL" -p "Once upon a time" -n 200 --seed 42
	fi
	log "bin/llmboot $*"
	bin/llmboot "$@"
}

cmd_test() {
	deps_go
	log "gofmt"
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
	if [ -n "$unformatted" ]; then
		echo "gofmt would change:" >&2
		echo "$unformatted" >&2
		exit 1
	fi
	log "go vet"
	go vet ./...
	log "staticcheck"
	go run "$STATICCHECK" ./...
	log "CGO_ENABLED=0 build, and GOARCH=arm64 build (the pure-Go paths)"
	CGO_ENABLED=0 go build ./...
	CGO_ENABLED=0 GOARCH=arm64 go build ./...
	log "go test"
	go test -count=1 ./...
}

cmd_fuzz() {
	deps_go
	local t=${1:-5m}
	local pkg target
	for pkg in $(go list ./...); do
		for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
			log "fuzz $pkg $target for $t"
			go test -run '^$' -fuzz "^$target\$" -fuzztime "$t" "$pkg"
		done
	done
}

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

case "${1:-}" in
run | test | build | fuzz | deps)
	c=$1
	shift
	"cmd_$c" "$@"
	;;
-h | --help | help | "") usage ;;
*)
	usage >&2
	exit 2
	;;
esac
