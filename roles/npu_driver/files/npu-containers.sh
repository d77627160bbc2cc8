#!/bin/sh
# Running containers of the engine $1 (docker or podman: same CLI) that use NPUs: a /dev/davinci* device, or
# ASCEND_VISIBLE_DEVICES in their environment (Ascend Docker Runtime adds the devices from it, ascend-facts §6).
# One line per container: "<id> TAB <name>". An engine whose daemon does not answer lists none.
engine=$1
"$engine" ps -q 2>/dev/null | while read -r id; do
    "$engine" inspect --format \
        '{{.Id}}	{{.Name}}	{{range .HostConfig.Devices}}{{.PathOnHost}} {{end}}	{{range .Config.Env}}{{.}} {{end}}' \
        "$id" 2>/dev/null
done | awk -F '\t' '$3 ~ /\/dev\/davinci/ || $4 ~ /(^| )ASCEND_VISIBLE_DEVICES=/ { print $1 "\t" $2 }'
