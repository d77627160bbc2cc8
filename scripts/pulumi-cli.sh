#!/usr/bin/env bash
# Puts the Pulumi CLI and its Python language host at the pinned version into a cache keyed by
# version, building them from source with Go on first use, and prints the bin directory.
# A `pulumi` already on PATH at the pinned version or newer is used as it is (nothing is built).
#
# Recipe and why (wrapper module, pseudo-version of the language host, the two scripts next to the
# binaries): docs/pulumi-engine.md.
set -euo pipefail

VERSION="${TOKENFACTORY_PULUMI_VERSION:-3.274.1}"
CACHE="${TOKENFACTORY_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenfactory/pulumi}"
BIN="$CACHE/v$VERSION/bin"

say() { echo "pulumi-cli: $*" >&2; }

version_at_least() {  # version_at_least HAVE WANT
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

usable_bin() {  # a directory holding every program the engine runs for this project
    local dir="$1"
    [ -x "$dir/pulumi" ] && [ -x "$dir/pulumi-language-python" ] \
        && [ -x "$dir/pulumi-language-python-exec" ] && [ -x "$dir/pulumi-resource-pulumi-python" ]
}

if on_path="$(command -v pulumi 2>/dev/null)"; then
    have="$("$on_path" version 2>/dev/null | sed 's/^v//')"
    dir="$(dirname "$(readlink -f "$on_path")")"
    if [ -n "$have" ] && version_at_least "$have" "$VERSION" && usable_bin "$dir"; then
        say "using pulumi $have from PATH ($dir)"
        echo "$dir"
        exit 0
    fi
fi

if usable_bin "$BIN" && [ "$("$BIN/pulumi" version)" = "v$VERSION" ]; then
    echo "$BIN"
    exit 0
fi

command -v go >/dev/null || { say "Go is needed to build pulumi v$VERSION (apt-get install golang)"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/pulumi-cli.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0

say "building pulumi v$VERSION from source into $BIN (first build: 10-20 min on 2 cores)"
cd "$work"
go mod init tokenfactory.local/pulumi-cli >/dev/null 2>&1
# The language host module is never tagged: it is required at the commit of the release (a
# pseudo-version), which the mirror's .info of pkg/v3 names under Origin.Hash when it records it.
commit="${TOKENFACTORY_PULUMI_LANGUAGE_COMMIT:-$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Origin", {}).get("Hash", ""))')}"
if [ -z "$commit" ]; then
    say "the module mirror does not name the commit of pkg/v3 v$VERSION (no Origin in its .info);"
    say "set TOKENFACTORY_PULUMI_LANGUAGE_COMMIT to the commit of the v$VERSION tag"
    exit 1
fi
host="github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@$commit"
if ! error="$(go mod download -json "$host" 2>&1 | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Error", ""))')" \
        || [ -n "$error" ]; then
    say "cannot fetch the Python language host from the module mirror: ${error:-go mod download failed}"
    exit 1
fi
say "resolving modules (pkg/v3 and sdk/v3 v$VERSION, language host at commit ${commit:0:12})"
go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$VERSION" \
    "$host" \
    "github.com/pulumi/pulumi/sdk/v3@v$VERSION" 2>&1 | grep -v '^go: downloading' >&2 || true
for module in pkg/v3 sdk/v3; do
    got="$(go list -m -f '{{.Version}}' "github.com/pulumi/pulumi/$module")"
    [ "$got" = "v$VERSION" ] || { say "$module resolved to $got, not v$VERSION"; exit 1; }
done

mkdir -p "$work/bin"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION"
say "compiling (one line per package built)"
go build -v -trimpath -ldflags "$ldflags" -o "$work/bin/" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 2>&1 \
    | awk '{ n++; if (n % 100 == 0) { printf "pulumi-cli: %d packages compiled\n", n > "/dev/stderr" } }'
[ -x "$work/bin/pulumi-language-python" ] || mv "$work/bin/v3" "$work/bin/pulumi-language-python"

sdk="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$work/bin/"
install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$work/bin/"
usable_bin "$work/bin" || { say "build finished without every program: $(ls "$work/bin")"; exit 1; }

mkdir -p "$(dirname "$BIN")"
rm -rf "$BIN.tmp" && mv "$work/bin" "$BIN.tmp" && rm -rf "$BIN" && mv "$BIN.tmp" "$BIN"
say "pulumi $("$BIN/pulumi" version) ready"
echo "$BIN"
